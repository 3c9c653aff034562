"""The registry's read API, as the assistant and other parts will use it, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import requests

from tests.support.processes import RegistryProcess


def get(registry: RegistryProcess, path: str, **params: object) -> dict:
    response = requests.get(registry.url + path, params=params, timeout=5)
    assert response.status_code == 200, response.text
    return response.json()


def test_health_reports_the_database(registry: RegistryProcess) -> None:
    assert get(registry, "/health") == {"status": "ok", "database": "ok"}


def test_openapi_describes_every_read_route(registry: RegistryProcess) -> None:
    paths = get(registry, "/openapi.json")["paths"]
    for path in (
        "/api/v1/regions",
        "/api/v1/programmes",
        "/api/v1/programmes/{programme_id}",
        "/api/v1/centres",
        "/api/v1/sessions",
    ):
        assert "get" in paths[path]


def test_the_twelve_regions_each_have_a_cite_des_metiers_with_digital_offshoring(registry: RegistryProcess) -> None:
    regions = get(registry, "/api/v1/regions")
    assert regions["count"] == 12
    cmc = [c for c in get(registry, "/api/v1/centres", limit=200)["data"] if c["kind"] == "cmc"]
    assert sorted(c["region"] for c in cmc) == sorted(r["id"] for r in regions["data"])
    assert all("digital-offshoring" in c["programmes"] for c in cmc)


def test_ai_programmes_sit_in_rabat_sale_kenitra_and_casablanca_settat_only(registry: RegistryProcess) -> None:
    centres = get(registry, "/api/v1/centres", programme="ia-cmc")["data"]
    assert sorted(c["region"] for c in centres) == ["casablanca-settat", "rabat-sale-kenitra"]


def test_jobintech_is_taught_in_code_212_centres_of_rabat_oujda_kenitra_and_agadir(registry: RegistryProcess) -> None:
    for programme in ("jobintech-data-science", "jobintech-ia"):
        centres = get(registry, "/api/v1/centres", programme=programme)["data"]
        assert {c["kind"] for c in centres} == {"code212"}
        assert sorted(c["city"] for c in centres) == ["Agadir", "Kénitra", "Oujda", "Rabat"]


def test_values_no_source_states_are_flagged_as_sample_data(registry: RegistryProcess) -> None:
    programme = get(registry, "/api/v1/programmes/jobintech-ia")
    assert {"min_age", "cost_mad", "duration_months"} <= set(programme["sample_fields"])
    assert "JobInTech" in programme["source_note"]
    for session in get(registry, "/api/v1/sessions")["data"]:
        assert "start_date" in session["sample_fields"]
        assert session["updated_at"]


def test_a_programme_carries_its_eligibility_as_data(registry: RegistryProcess) -> None:
    programme = get(registry, "/api/v1/programmes/digital-offshoring")
    eligibility = programme["eligibility"]
    assert set(eligibility) == {"min_age", "max_age", "min_education_level", "other_conditions"}
    levels = [level["id"] for level in get(registry, "/api/v1/education-levels")["data"]]
    assert eligibility["min_education_level"] in levels
    assert levels == sorted(levels, key=levels.index) and levels[0] == "aucun"


def test_unknown_programme_is_a_404(registry: RegistryProcess) -> None:
    assert requests.get(f"{registry.url}/api/v1/programmes/cooking", timeout=5).status_code == 404


def test_city_filter_ignores_case_and_accents(registry: RegistryProcess) -> None:
    spellings = [get(registry, "/api/v1/centres", city=city)["data"] for city in ("Fès", "fes", "FES", "fès")]
    assert spellings[0] and all(result == spellings[0] for result in spellings)
    assert {c["city"] for c in spellings[0]} == {"Fès"}
    assert get(registry, "/api/v1/centres", city="KENITRA")["count"] >= 1


def test_near_orders_centres_by_distance(registry: RegistryProcess) -> None:
    tetouan = (35.5889, -5.3626)
    centres = get(registry, "/api/v1/centres", near=f"{tetouan[0]},{tetouan[1]}", limit=3)["data"]
    assert centres[0]["city"] == "Tanger"
    distances = [c["distance_km"] for c in centres]
    assert distances == sorted(distances) and 20 < distances[0] < 80


def test_near_rejects_a_malformed_point(registry: RegistryProcess) -> None:
    assert requests.get(f"{registry.url}/api/v1/centres", params={"near": "rabat"}, timeout=5).status_code == 422


def test_sessions_filter_by_programme_city_status_and_date(registry: RegistryProcess) -> None:
    today = dt.date.today()
    sessions = get(
        registry,
        "/api/v1/sessions",
        programme="jobintech-data-science",
        city="rabat",
        status="open",
        **{"from": today.isoformat()},
    )["data"]
    assert sessions
    for session in sessions:
        assert session["programme_id"] == "jobintech-data-science"
        assert session["city"] == "Rabat"
        assert session["status"] == "open"
        assert dt.date.fromisoformat(session["start_date"]) >= today
        assert dt.date.fromisoformat(session["application_deadline"]) <= dt.date.fromisoformat(session["start_date"])
    assert [s["start_date"] for s in sessions] == sorted(s["start_date"] for s in sessions)


def test_seeded_sessions_are_upcoming_so_there_is_always_something_current(registry: RegistryProcess) -> None:
    upcoming = get(registry, "/api/v1/sessions", **{"from": dt.date.today().isoformat()})
    assert upcoming["count"] >= 2 * 4  # a few per programme
    assert {s["status"] for s in upcoming["data"]} >= {"open", "full"}


def test_lists_page(registry: RegistryProcess) -> None:
    first = get(registry, "/api/v1/centres", limit=5, offset=0)
    second = get(registry, "/api/v1/centres", limit=5, offset=5)
    assert first["count"] == second["count"] >= 16
    assert len(first["data"]) == len(second["data"]) == 5
    assert not {c["id"] for c in first["data"]} & {c["id"] for c in second["data"]}
    assert requests.get(f"{registry.url}/api/v1/centres", params={"limit": 0}, timeout=5).status_code == 422


def test_reads_carry_an_etag_and_an_unchanged_one_gets_304(registry: RegistryProcess) -> None:
    url = f"{registry.url}/api/v1/programmes"
    first = requests.get(url, timeout=5)
    etag = first.headers["ETag"]
    again = requests.get(url, headers={"If-None-Match": etag}, timeout=5)
    assert again.status_code == 304 and again.content == b""
    assert requests.get(url, headers={"If-None-Match": '"stale"'}, timeout=5).json() == first.json()

"""Staff change programmes, centres and sessions through the token-protected write API."""

from __future__ import annotations

import datetime as dt
import uuid

import requests

from tests.support.processes import RegistryProcess


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_writes_need_the_staff_token(registry: RegistryProcess) -> None:
    url = f"{registry.url}/api/v1/programmes/digital-offshoring"
    assert requests.patch(url, json={"name_fr": "X"}, timeout=5).status_code == 401
    wrong = {"Authorization": "Bearer not-the-token"}
    assert requests.patch(url, json={"name_fr": "X"}, headers=wrong, timeout=5).status_code == 401
    assert requests.get(url, timeout=5).json()["name_fr"] == "Digital-Offshoring"


def test_staff_create_a_programme_a_centre_and_a_session_that_read_back(registry: RegistryProcess) -> None:
    headers = registry.staff_headers()
    programme_id, centre_id = unique("cyber"), unique("centre-fes")
    programme = {
        "id": programme_id,
        "name_fr": "Cybersécurité",
        "name_ar": "الأمن السيبراني",
        "track": "Sécurité",
        "duration_months": 6,
        "cost_mad": 0,
        "eligibility": {"min_age": 18, "max_age": 28, "min_education_level": "bac", "other_conditions": []},
    }
    created = requests.post(f"{registry.url}/api/v1/programmes", json=programme, headers=headers, timeout=5)
    assert created.status_code == 201, created.text
    assert created.json()["sample_fields"] == []

    centre = {
        "id": centre_id,
        "name": "Centre test Fès",
        "kind": "other",
        "city": "Fès",
        "region": "fes-meknes",
        "programmes": [programme_id],
    }
    assert requests.post(f"{registry.url}/api/v1/centres", json=centre, headers=headers, timeout=5).status_code == 201
    start = dt.date.today() + dt.timedelta(days=40)
    session = {
        "programme_id": programme_id,
        "centre_id": centre_id,
        "start_date": start.isoformat(),
        "application_deadline": (start - dt.timedelta(days=7)).isoformat(),
        "seats_total": 20,
        "seats_left": 20,
    }
    made = requests.post(f"{registry.url}/api/v1/sessions", json=session, headers=headers, timeout=5)
    assert made.status_code == 201, made.text

    listed = requests.get(
        f"{registry.url}/api/v1/sessions", params={"programme": programme_id, "city": "fes"}, timeout=5
    ).json()
    assert [s["id"] for s in listed["data"]] == [made.json()["id"]]
    assert listed["data"][0]["status"] == "open"
    assert (
        requests.post(f"{registry.url}/api/v1/programmes", json=programme, headers=headers, timeout=5).status_code
        == 409
    )


def test_updating_a_field_makes_it_real_data_and_stamps_updated_at(registry: RegistryProcess) -> None:
    url = f"{registry.url}/api/v1/programmes/ia-cmc"
    before = requests.get(url, timeout=5).json()
    assert "duration_months" in before["sample_fields"]
    after = requests.patch(url, json={"duration_months": 18}, headers=registry.staff_headers(), timeout=5).json()
    assert after["duration_months"] == 18
    assert "duration_months" not in after["sample_fields"]
    assert after["updated_at"] >= before["updated_at"]
    assert requests.get(url, timeout=5).json()["duration_months"] == 18


def test_seats_and_status_of_a_session_change_and_bad_changes_are_refused(registry: RegistryProcess) -> None:
    headers = registry.staff_headers()
    session = requests.get(
        f"{registry.url}/api/v1/sessions", params={"programme": "digital-offshoring", "city": "Dakhla"}, timeout=5
    ).json()["data"][0]
    url = f"{registry.url}/api/v1/sessions/{session['id']}"
    full = requests.patch(url, json={"seats_left": 0, "status": "full"}, headers=headers, timeout=5)
    assert full.status_code == 200 and full.json()["status"] == "full"
    too_many = requests.patch(url, json={"seats_left": session["seats_total"] + 1}, headers=headers, timeout=5)
    assert too_many.status_code == 422 and "seats_left" in too_many.text
    open_but_empty = requests.patch(url, json={"status": "open"}, headers=headers, timeout=5)
    assert open_but_empty.status_code == 422
    assert requests.get(url, timeout=5).json()["status"] == "full"
    late_deadline = requests.patch(url, json={"application_deadline": "2999-01-01"}, headers=headers, timeout=5)
    assert late_deadline.status_code == 422


def test_invalid_payloads_are_refused_with_reasons(registry: RegistryProcess) -> None:
    headers = registry.staff_headers()
    bad_ages = {"eligibility": {"min_age": 30, "max_age": 18}}
    response = requests.patch(f"{registry.url}/api/v1/programmes/ia-cmc", json=bad_ages, headers=headers, timeout=5)
    assert response.status_code == 422 and "min_age" in response.text
    unknown_region = {"id": unique("c"), "name": "X centre", "kind": "cmc", "city": "Rabat", "region": "atlantis"}
    assert (
        requests.post(f"{registry.url}/api/v1/centres", json=unknown_region, headers=headers, timeout=5).status_code
        == 422
    )
    unknown_field = requests.patch(
        f"{registry.url}/api/v1/programmes/ia-cmc", json={"colour": "red"}, headers=headers, timeout=5
    )
    assert unknown_field.status_code == 422


def test_a_centre_city_must_be_a_city_of_the_registry_and_gives_the_centre_its_region(
    registry: RegistryProcess,
) -> None:
    headers = registry.staff_headers()
    url = f"{registry.url}/api/v1/centres"
    unknown = requests.post(
        url,
        json={"id": unique("c"), "name": "Centre X", "kind": "other", "city": "Atlantis"},
        headers=headers,
        timeout=5,
    )
    assert unknown.status_code == 422 and "Unknown city 'Atlantis'" in unknown.json()["detail"]

    elsewhere = {"id": unique("c"), "name": "Centre X", "kind": "other", "city": "Rabat", "region": "souss-massa"}
    refused = requests.post(url, json=elsewhere, headers=headers, timeout=5)
    assert refused.status_code == 422 and "is in region 'rabat-sale-kenitra'" in refused.json()["detail"]

    centre_id = unique("centre-tanja")
    made = requests.post(
        url,
        json={"id": centre_id, "name": "Centre Tanja", "kind": "other", "city": "tanja"},
        headers=headers,
        timeout=5,
    )
    assert made.status_code == 201, made.text
    assert (made.json()["city"], made.json()["region"]) == ("Tanger", "tanger-tetouan-al-hoceima")
    assert made.json()["region_name"] == "Tanger-Tétouan-Al Hoceïma"

    moved = requests.patch(f"{url}/{centre_id}", json={"city": "agadir"}, headers=headers, timeout=5)
    assert moved.status_code == 200, moved.text
    assert (moved.json()["city"], moved.json()["region"]) == ("Agadir", "souss-massa")
    assert [c["id"] for c in requests.get(url, params={"region": "Souss-Massa"}, timeout=5).json()["data"]].count(
        centre_id
    ) == 1
    assert requests.patch(f"{url}/{centre_id}", json={"city": None}, headers=headers, timeout=5).status_code == 422
    assert requests.patch(f"{url}/{centre_id}", json={"name": None}, headers=headers, timeout=5).status_code == 422

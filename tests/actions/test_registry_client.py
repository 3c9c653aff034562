"""The registry client against a real registry process: healthy, stopped, hung, failing and garbled."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time

import pytest
import requests

from actions.config import ActionServerSettings
from actions.registry_client import (
    RegistryBadResponse,
    RegistryClient,
    RegistryNotFound,
    RegistryUnavailable,
    call_registry,
)
from tests.support.faulty_proxy import FaultyProxy
from tests.support.processes import RegistryProcess, free_port

FAST = ActionServerSettings(
    connect_timeout=0.3, read_timeout=0.5, total_budget=1.0, retries=1, backoff=0.05, cache_ttl=0
)


def client_for(url: str, **overrides: object) -> RegistryClient:
    return RegistryClient(FAST.copy(update={"registry_url": url, **overrides}))


def test_reads_programmes_centres_and_upcoming_sessions(sqlite_registry: RegistryProcess) -> None:
    client = client_for(sqlite_registry.url)
    assert {p["id"] for p in client.programmes()} >= {
        "digital-offshoring",
        "ia-cmc",
        "jobintech-data-science",
        "jobintech-ia",
    }
    assert {c["city"] for c in client.centres(city="oujda")} == {"Oujda"}
    sessions = client.upcoming_sessions(programme="jobintech-ia", city="Agadir")
    assert sessions and {s["city"] for s in sessions} == {"Agadir"}
    assert client.programme("ia-cmc")["id"] == "ia-cmc"


def test_reads_every_page_of_a_long_list(sqlite_registry: RegistryProcess, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("actions.registry_client.PAGE_SIZE", 5)
    assert len(client_for(sqlite_registry.url).centres()) >= 16


def test_unknown_record_is_not_found(sqlite_registry: RegistryProcess) -> None:
    with pytest.raises(RegistryNotFound):
        client_for(sqlite_registry.url).programme("does-not-exist")


def test_stopped_registry_is_unavailable(own_registry: RegistryProcess) -> None:
    client = client_for(own_registry.url)
    own_registry.stop()
    with pytest.raises(RegistryUnavailable):
        client.programmes()


def test_nothing_listening_is_unavailable() -> None:
    with pytest.raises(RegistryUnavailable):
        client_for(f"http://127.0.0.1:{free_port()}").programmes()


def test_hung_registry_times_out_within_the_budget(own_registry: RegistryProcess) -> None:
    client = client_for(own_registry.url)
    own_registry.pause()
    try:
        with pytest.raises(RegistryUnavailable, match="Timeout"):
            client.programmes()
    finally:
        own_registry.resume()
    assert client.programmes()  # and it recovers once the registry answers again


def test_registry_answering_500_is_a_bad_response(own_registry: RegistryProcess) -> None:
    database = own_registry.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(database) as connection:
        connection.execute("DROP TABLE centre_programmes")
    with pytest.raises(RegistryBadResponse, match="HTTP 500"):
        client_for(own_registry.url).programmes()


def test_malformed_json_is_a_bad_response(sqlite_registry: RegistryProcess) -> None:
    with FaultyProxy(sqlite_registry.url) as proxy:
        proxy.truncate_body = True
        with pytest.raises(RegistryBadResponse, match="malformed JSON"):
            client_for(proxy.url).programmes()
        assert proxy.requests_seen == 1  # a garbled body is not retried


def test_circuit_opens_after_repeated_failures_and_fails_fast(own_registry: RegistryProcess) -> None:
    with FaultyProxy(own_registry.url) as proxy:
        client = client_for(proxy.url, breaker_threshold=2, breaker_cooldown=60)
        proxy.truncate_body = True
        for _ in range(2):
            with pytest.raises(RegistryBadResponse):
                client.programmes()
        seen = proxy.requests_seen
        proxy.truncate_body = False
        with pytest.raises(RegistryUnavailable, match="circuit"):
            client.programmes()
        assert proxy.requests_seen == seen  # the open circuit did not even call the registry
        assert client.breaker.is_open


def test_a_fresh_window_spares_the_registry_repeated_questions(sqlite_registry: RegistryProcess) -> None:
    with FaultyProxy(sqlite_registry.url) as proxy:
        client = client_for(proxy.url, cache_ttl=60)
        first = client.programmes()
        assert client.programmes() == first
        assert proxy.requests_seen == 1


def test_unchanged_answers_are_revalidated_without_a_body_and_changes_show_at_once(
    own_registry: RegistryProcess,
) -> None:
    with FaultyProxy(own_registry.url) as proxy:
        client = client_for(proxy.url)  # the default: no fresh window, always revalidate
        first = client.programme("ia-cmc")
        assert client.programme("ia-cmc") == first
        assert proxy.statuses == [200, 304]
        renamed = requests.patch(
            f"{own_registry.url}/api/v1/programmes/ia-cmc",
            json={"name_fr": "IA (renamed)"},
            headers=own_registry.staff_headers(),
            timeout=5,
        )
        assert renamed.status_code == 200
        assert client.programme("ia-cmc")["name_fr"] == "IA (renamed)"
        assert proxy.statuses == [200, 304, 200]


async def test_calls_run_off_the_event_loop_so_conversations_overlap(sqlite_registry: RegistryProcess) -> None:
    with FaultyProxy(sqlite_registry.url) as proxy:
        proxy.delay_seconds = 0.3
        client = client_for(proxy.url, read_timeout=2.0, total_budget=3.0)
        results = await asyncio.gather(*(call_registry(client.programmes) for _ in range(8)))
        assert all(results)
        assert proxy.max_in_flight >= 4  # a blocking call on the loop would have sent them one by one


def test_reference_lists_are_reused_for_a_short_while_and_other_answers_revalidated_every_time(
    sqlite_registry: RegistryProcess,
) -> None:
    with FaultyProxy(sqlite_registry.url) as proxy:
        client = client_for(proxy.url, reference_ttl=30)
        for _ in range(3):
            assert client.cities() and client.regions() and client.education_levels() and client.programmes()
        assert proxy.requests_seen == 4  # one each: the next two rounds asked nothing
        for _ in range(2):
            client.upcoming_sessions(programme="jobintech-ia", city="Rabat")
            client.centres(city="Rabat")
            client.programme("ia-cmc")
        assert proxy.statuses[4:] == [200, 200, 200, 304, 304, 304]  # every use asks; unchanged costs no body


def test_a_staff_change_to_a_reference_list_shows_once_its_time_is_over(own_registry: RegistryProcess) -> None:
    with FaultyProxy(own_registry.url) as proxy:
        client = client_for(proxy.url, reference_ttl=0.5)
        assert "IA (renamed)" not in {p["name_fr"] for p in client.programmes()}
        renamed = requests.patch(
            f"{own_registry.url}/api/v1/programmes/ia-cmc",
            json={"name_fr": "IA (renamed)"},
            headers=own_registry.staff_headers(),
            timeout=5,
        )
        assert renamed.status_code == 200
        assert "IA (renamed)" not in {p["name_fr"] for p in client.programmes()}  # within the window
        time.sleep(0.6)
        assert "IA (renamed)" in {p["name_fr"] for p in client.programmes()}
        assert proxy.statuses == [200, 200]  # revalidated once the window was over, and changed


def test_one_pooled_session_reuses_its_connections(sqlite_registry: RegistryProcess) -> None:
    client = client_for(sqlite_registry.url, workers=4)
    for _ in range(5):
        client.upcoming_sessions(city="Rabat")
    adapter = client._session().get_adapter(sqlite_registry.url)
    [pool] = [adapter.poolmanager.pools[key] for key in adapter.poolmanager.pools.keys()]
    assert (pool.num_requests, pool.num_connections) == (5, 1)
    assert adapter._pool_maxsize == 4  # a connection for every worker thread


async def test_calls_in_flight_are_bounded_by_the_workers_setting(sqlite_registry: RegistryProcess) -> None:
    with FaultyProxy(sqlite_registry.url) as proxy:
        proxy.delay_seconds = 0.2
        client = client_for(proxy.url, workers=2, read_timeout=2.0, total_budget=5.0)
        cities = ["Rabat", "Fès", "Agadir", "Oujda", "Tanger", "Kénitra"]
        await asyncio.gather(*(call_registry(client.centres, city=city) for city in cities))
        assert proxy.max_in_flight == 2


def test_server_errors_are_retried_and_missing_records_are_not(own_registry: RegistryProcess) -> None:
    with FaultyProxy(own_registry.url) as proxy:
        client = client_for(proxy.url)  # one retry
        with pytest.raises(RegistryNotFound):
            client.programme("does-not-exist")
        assert proxy.requests_seen == 1
        database = own_registry.database_url.removeprefix("sqlite:///")
        with sqlite3.connect(database) as connection:
            connection.execute("DROP TABLE centre_programmes")
        with pytest.raises(RegistryBadResponse, match="HTTP 500"):
            client.programme("ia-cmc")
        assert proxy.requests_seen == 3


def test_a_failure_is_logged_with_the_endpoint_never_the_value_asked_for(caplog: pytest.LogCaptureFixture) -> None:
    client = client_for(f"http://127.0.0.1:{free_port()}")
    with caplog.at_level(logging.DEBUG), pytest.raises(RegistryUnavailable):
        client.programme("kenitra-0612345678")
    assert "/api/v1/programmes/{id}" in caplog.text
    assert "0612345678" not in caplog.text

"""Who gets in, over HTTP against a real `python -m console serve`: anonymous requests are refused, a write
without the page's CSRF token is refused, repeated failed logins are slowed then refused (and stay refused
across a restart), roles are enforced, the cookie is signed, HttpOnly and SameSite."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest
import requests

from tests.console.conftest import PASSWORD, Client, ConsoleProcess, Setup
from tests.support.processes import ROOT, VENV_BIN

PAGES = ["/", "/conversations", "/conversations/1", "/analytics", "/audit", "/users", "/export/nlu.yml", "/docs"]
API = [
    ("GET", "/api/v1/conversations"),
    ("GET", "/api/v1/conversations/1"),
    ("POST", "/api/v1/conversations/1/review"),
    ("POST", "/api/v1/conversations/1/annotations"),
    ("POST", "/api/v1/conversations/1/reveal"),
    ("POST", "/api/v1/conversations/1/erase"),
    ("GET", "/api/v1/stats"),
    ("GET", "/api/v1/export/nlu"),
    ("GET", "/openapi.json"),
]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_sends_an_anonymous_visitor_to_the_login(console: ConsoleProcess, path: str) -> None:
    response = requests.get(console.url + path, allow_redirects=False, timeout=10)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")


@pytest.mark.parametrize(("method", "path"), API)
def test_every_api_route_answers_401_to_an_anonymous_request(console: ConsoleProcess, method: str, path: str) -> None:
    response = requests.request(method, console.url + path, json={}, allow_redirects=False, timeout=10)
    assert response.status_code == 401
    assert response.json() == {"detail": "Log in first."}


def test_the_login_cookie_is_signed_http_only_and_same_site(console: ConsoleProcess) -> None:
    client = Client(console.url)
    client.page("/login")
    response = client.login("reviewer", PASSWORD)
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert client.get("/api/v1/conversations").status_code == 200
    # A forged or altered cookie is worth nothing.
    forged = requests.Session()
    value = client.http.cookies.get("tawjih_console")
    forged.cookies.set("tawjih_console", value[:-3] + ("AAA" if not value.endswith("AAA") else "BBB"))
    assert forged.get(console.url + "/api/v1/conversations", timeout=10).status_code == 401


def test_every_page_holds_the_csrf_token_in_a_meta_tag(supervisor: Client, admin: Client) -> None:
    for client, path in [
        (supervisor, "/conversations"),
        (supervisor, "/analytics"),
        (supervisor, "/audit"),
        (admin, "/users"),
    ]:
        client.csrf = None
        response = client.page(path)
        assert response.status_code == 200, path
        assert client.csrf and len(client.csrf) > 20


def test_a_login_without_the_csrf_token_is_refused(console: ConsoleProcess) -> None:
    client = Client(console.url)
    client.page("/login")
    response = client.http.post(
        console.url + "/login", data={"username": "reviewer", "password": PASSWORD}, allow_redirects=False, timeout=10
    )
    assert response.status_code == 403
    assert client.get("/api/v1/conversations").status_code == 401


def test_a_write_without_the_csrf_token_is_refused(setup: Setup, reviewer: Client) -> None:
    session_id = reviewer.get("/api/v1/conversations").json()["data"][0]["session_id"]
    path = f"/api/v1/conversations/{session_id}/review"
    assert reviewer.post_json(path, {"status": "reviewed"}, csrf=False).status_code == 403
    reviewer.http.headers["X-CSRF-Token"] = "not-the-token"
    assert reviewer.http.post(reviewer.url + path, json={"status": "reviewed"}, timeout=10).status_code == 403
    del reviewer.http.headers["X-CSRF-Token"]
    form = reviewer.post_form(f"/conversations/{session_id}/review", {"status": "reviewed"}, csrf=False)
    assert form.status_code == 403
    assert reviewer.get(f"/api/v1/conversations/{session_id}").json()["review"]["status"] == "new"
    # With the token, the same write goes through.
    assert reviewer.post_json(path, {"status": "needs_work"}).status_code == 200


def test_logging_out_ends_the_session_even_for_a_copied_cookie(console: ConsoleProcess) -> None:
    client = console.login("reviewer")
    copied = requests.Session()
    copied.cookies.update(client.http.cookies)
    assert copied.get(console.url + "/api/v1/conversations", timeout=10).status_code == 200
    assert client.post_form("/logout", {}).status_code == 303
    assert client.get("/api/v1/conversations").status_code == 401
    assert copied.get(console.url + "/api/v1/conversations", timeout=10).status_code == 401


def test_roles_reviewer_supervisor_admin(setup: Setup, reviewer: Client, supervisor: Client, admin: Client) -> None:
    session_id = reviewer.get("/api/v1/conversations").json()["data"][0]["session_id"]
    reveal = {"event_id": session_id, "index": 0, "reason": "checking a callback"}
    assert reviewer.post_json(f"/api/v1/conversations/{session_id}/reveal", reveal).status_code == 403
    assert reviewer.post_json(f"/api/v1/conversations/{session_id}/erase", {"confirm": True}).status_code == 403
    assert reviewer.page("/audit").status_code == 403
    assert reviewer.page("/users").status_code == 403
    assert supervisor.page("/audit").status_code == 200
    assert supervisor.page("/users").status_code == 403
    assert supervisor.get("/docs").status_code == 403
    assert supervisor.get("/openapi.json").status_code == 403
    docs = admin.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    schema = admin.get("/openapi.json").json()
    assert "/api/v1/conversations" in schema["paths"] and "/api/v1/stats" in schema["paths"]


def test_an_admin_adds_and_disables_a_user_and_a_disabled_user_is_out(console: ConsoleProcess, admin: Client) -> None:
    admin.page("/users")
    added = admin.post_form("/users", {"username": "nadia", "role": "reviewer", "password": "une phrase assez longue"})
    assert added.status_code == 303
    nadia = console.login("nadia", "une phrase assez longue")
    assert nadia.get("/api/v1/conversations").status_code == 200
    admin.page("/users")
    assert admin.post_form("/users/nadia/disable", {}).status_code == 303
    assert nadia.get("/api/v1/conversations").status_code == 401
    assert Client(console.url).login("nadia", "une phrase assez longue").status_code == 401


def test_repeated_failures_are_slowed_then_refused_and_a_restart_does_not_forgive_them(
    setup: Setup, tmp_path: Path, log_dir: Path
) -> None:
    database_url = f"sqlite:///{tmp_path / 'console.db'}"
    limits = {"CONSOLE_LOGIN_MAX_FAILURES": "5", "CONSOLE_LOGIN_MAX_FAILURES_PER_CLIENT": "8"}
    console = ConsoleProcess(database_url, setup.tracker_store_url, log_dir, **limits)
    try:
        client = Client(console.url)
        timings = []
        for _ in range(5):
            started = time.monotonic()
            response = client.login("supervisor", "wrong password")
            timings.append(time.monotonic() - started)
            assert response.status_code == 401
            assert "incorrect" in response.text
        assert timings[-1] > timings[0] + 0.5  # slowed
        refused = client.login("supervisor", PASSWORD)  # even the right password, now
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) > 0
        assert Client(console.url).login("supervisor", PASSWORD).status_code == 429  # a fresh cookie changes nothing
        assert console.login("reviewer").get("/api/v1/conversations").status_code == 200  # others are not locked out
        for name in ("ghost-1", "ghost-2", "ghost-3"):
            assert Client(console.url).login(name, "guess").status_code == 401
        # Eight failures from this client address: every username is refused from it now.
        assert Client(console.url).login("reviewer", PASSWORD).status_code == 429
    finally:
        console.stop()
    # The count lives in the database: a new process on it refuses as well.
    restarted = ConsoleProcess(database_url, setup.tracker_store_url, log_dir, existing_users=True, **limits)
    try:
        assert Client(restarted.url).login("supervisor", PASSWORD).status_code == 429
    finally:
        restarted.stop()


def test_serve_refuses_to_start_without_its_secret_key_and_names_it(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "CONSOLE_SECRET_KEY"}
    env["CONSOLE_DATABASE_URL"] = f"sqlite:///{tmp_path / 'console.db'}"
    done = subprocess.run(
        [str(VENV_BIN / "python"), "-m", "console", "serve"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "CONSOLE_SECRET_KEY is not set" in done.stderr


def test_a_password_is_read_from_standard_input_never_from_the_command_line(tmp_path: Path) -> None:
    env = {**os.environ, "CONSOLE_DATABASE_URL": f"sqlite:///{tmp_path / 'console.db'}"}
    run = lambda *args, stdin="": subprocess.run(  # noqa: E731
        [str(VENV_BIN / "python"), "-m", "console", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run("users", "add", "samir", "--role", "adviser", "--password", "x" * 12).returncode == 2  # no such option
    assert run("users", "add", "samir", "--role", "adviser", stdin="short\n").returncode == 1
    added = run("users", "add", "samir", "--role", "adviser", stdin="une phrase assez longue\n")
    assert added.returncode == 0, added.stderr
    assert run("users", "add", "samir", "--role", "adviser", stdin="une phrase assez longue\n").returncode == 1
    assert run("users", "add", "samir", "--role", "adviser", "--if-missing", stdin="\n").returncode == 0
    assert run("users", "disable", "samir").returncode == 0
    listed = run("users", "list").stdout
    assert "samir\tadviser\tdisabled" in listed
    assert "une phrase" not in listed

"""Fixtures for the WMLA compatibility end-to-end tests: a real `stoke server` (the binary in $STOKE_BIN, as
for tests/e2e) per module, and a password user who logs on the WMLA way."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "e2e"))
import harness  # noqa: E402
import wmla  # noqa: E402

USER, PASSWORD = "dse_user", "dse-password-1"


@pytest.fixture(scope="module")
def server():
    binary = harness.default_binary()
    if not binary or not os.path.exists(binary):
        pytest.fail(f"stoke binary not found: set STOKE_BIN (got {binary!r})")
    s = harness.StokeServer(binary=binary, cpu_slots=4)
    try:
        s.start()
        probe = s.client().get("/auth/v1/logon")
        if probe.status == 404:
            pytest.fail(f"{binary} has no WMLA routes (stoke_wmla not wired into the server)")
        r = s.client().post("users", {"user": USER, "password": PASSWORD, "admin": False})
        assert r.status == 201, r
        yield s
    finally:
        s.cleanup()


@pytest.fixture(params=["x-auth", "bearer"])
def dl(server, request):
    """A logged-on WMLA client, once with each auth header."""
    c = wmla.Wmla(server.port, header=request.param)
    r = c.logon(USER, PASSWORD)
    assert r.status == 200, r
    return c


@pytest.fixture
def dl_x(server):
    c = wmla.Wmla(server.port, header="x-auth")
    assert c.logon(USER, PASSWORD).status == 200
    return c


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed and "server" in item.fixturenames:
        s = item.funcargs.get("server")
        if s is not None:
            report.sections.append(("stoke server log", s.log_tail()))

"""pytest fixtures for the Stoke end-to-end suite: a real `stoke server` per module (or per test)."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

_LIVE_SERVERS = []


@pytest.fixture(scope="session")
def stoke_bin():
    binary = harness.default_binary()
    if not binary or not os.path.exists(binary):
        pytest.fail(f"stoke binary not found: set STOKE_BIN (got {binary!r})")
    return binary


def _start(stoke_bin, **kw):
    server = harness.StokeServer(binary=stoke_bin, **kw)
    _LIVE_SERVERS.append(server)
    try:
        server.start()
    except Exception:
        server.cleanup()
        _LIVE_SERVERS.remove(server)
        raise
    return server


def _finish(server):
    if server in _LIVE_SERVERS:
        _LIVE_SERVERS.remove(server)
    server.cleanup()


@pytest.fixture(scope="module")
def server(stoke_bin):
    """One server for the whole test module: --cpu-slots 4 --gpus none, temporary data dir."""
    s = _start(stoke_bin)
    yield s
    _finish(s)


@pytest.fixture
def fresh_server(stoke_bin):
    """A server of the test's own (for restarts and store-snapshot tests)."""
    s = _start(stoke_bin)
    yield s
    _finish(s)


@pytest.fixture
def client(server):
    return server.client()


@pytest.fixture
def scratch(tmp_path):
    return tmp_path


def make_user(server, name, admin=False):
    """Creates a token for `name`; returns (token_text, token_id)."""
    r = server.client().post("tokens", {"user": name, "admin": admin})
    assert r.status == 201, f"POST tokens -> {r}"
    doc = r.json()
    assert doc["token"] and doc["user"] == name and doc["admin"] == admin, doc
    return doc["token"], doc["id"]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        for s in _LIVE_SERVERS:
            report.sections.append((f"stoke server log ({s.log_path}, alive={s.alive()})", s.log_tail()))


@pytest.fixture
def gate(tmp_path):
    """A file path jobs wait for (`while [ ! -e GATE ]`); opened at teardown so a failed test frees its slots."""
    path = tmp_path / "gate"
    yield path
    path.touch()

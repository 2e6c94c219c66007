"""Fixtures for the client's tests. Unit tests need nothing; the end-to-end ones (marked by using the
`server` fixture) start a real `stoke server` ($STOKE_BIN, or a build directory of this checkout)."""

from __future__ import annotations

import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON_DIR = os.path.dirname(HERE)
sys.path.insert(0, HERE)
if PYTHON_DIR not in sys.path:
    sys.path.insert(0, PYTHON_DIR)  # the package under test, without an install

from stoke_server import StokeServer, find_binary  # noqa: E402

_servers = []


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: runs longer than a few seconds (notebook flow, pip install); "
                                       "select with -m slow, leave out with -m 'not slow'")


@pytest.fixture(scope="session")
def server():
    binary = find_binary()
    if not binary or not os.path.exists(binary):
        if os.environ.get("STOKE_BIN"):
            pytest.fail(f"STOKE_BIN={binary!r} does not exist")
        pytest.skip("no stoke binary (set STOKE_BIN or build the `stoke` target)")
    s = StokeServer(binary)
    _servers.append(s)
    try:
        s.start()
    except Exception:
        s.cleanup()
        raise
    yield s
    s.cleanup()


@pytest.fixture
def client(server):
    import stoke
    return stoke.Client(server.url, server.admin_token, config_path="")


@pytest.fixture
def job_env():
    """Env for jobs whose code imports `stoke`/`emetrics` from this checkout."""
    return {"PYTHONPATH": PYTHON_DIR}


@pytest.fixture(autouse=True)
def _no_ambient_config(monkeypatch, tmp_path):
    """Tests never read the developer's ~/.config/stoke or STOKE_* variables."""
    for name in ("STOKE_URL", "STOKE_TOKEN", "STOKE_JOB_ID", "STOKE_API", "STOKE_HPARAMS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        for s in _servers:
            report.sections.append((f"stoke server log ({s.log_path})", s.log_tail()))

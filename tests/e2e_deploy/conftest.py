"""Fixtures for the deployment end-to-end tests: a real `stoke server` whose replicas are real
`stoke-serve` jobs, and TorchScript models made here with python3-torch."""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "e2e"))

from harness import StokeServer  # noqa: E402

import models  # noqa: E402


@pytest.fixture(scope="module")
def server():
    srv = StokeServer(cpu_slots=8)
    with srv:
        r = srv.client().get("deployments")
        if r.status == 404:
            pytest.fail(f"{srv.binary} has no /api/v1/deployments route: the server does not wire src/deploy yet")
        yield srv


@pytest.fixture(scope="module")
def client(server):
    return server.client()


@pytest.fixture(scope="module")
def mlp(tmp_path_factory):
    """(path of a TorchScript MLP 64 -> 32 -> 10, the torch module)."""
    return models.make_mlp(str(tmp_path_factory.mktemp("models") / "mlp.pt"), seed=0)

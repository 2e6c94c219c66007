"""Deployments from the Python client against the real server: deploy an uploaded TorchScript model,
score it (results equal torch's), scale to two replicas and back, undeploy. Needs libtorch's
stoke-serve next to the server binary; marked slow (it starts replica processes)."""

import os
import subprocess
import time

import pytest

import stoke

pytestmark = pytest.mark.slow

MAKE_MODEL = """
import sys, torch
torch.manual_seed(3)
m = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
torch.jit.script(m).save(sys.argv[1])
x = torch.arange(12, dtype=torch.float32).reshape(3, 4) / 10
print(repr(m(x).tolist()))
"""


def wait_for(predicate, timeout_s, what):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")


def test_deploy_predict_scale_undeploy(client, tmp_path):
    model = tmp_path / "model.pt"
    out = subprocess.run(["/usr/bin/python3", "-c", MAKE_MODEL, str(model)], capture_output=True, text=True,
                         check=True, timeout=120)
    expected = eval(out.stdout.strip())  # a list of lists of floats printed by torch
    try:
        dep = client.deploy(str(model), name="py-mlp", replicas=1)
    except stoke.NotSupportedByServer:
        pytest.skip("this server has no deployments")
    x = [[i / 10 for i in range(r * 4, r * 4 + 4)] for r in range(3)]
    got = dep.predict(x)
    assert len(got) == 3
    for row, want in zip(got, expected):
        assert all(abs(a - b) < 1e-5 for a, b in zip(row, want)), (row, want)

    dep.scale(2)
    wait_for(lambda: dep.refresh().info["replicas"]["ready"] == 2, 120, "two ready replicas")
    assert len(dep.predict(x * 20)) == 60  # 60 rows: split by the deployment's max batch
    dep.scale(1)
    wait_for(lambda: dep.refresh().info["replicas"]["ready"] == 1, 120, "back to one replica")
    assert [d.name for d in client.deployments()] == ["py-mlp"]

    dep.undeploy()
    with pytest.raises(stoke.NotFound):
        client.deployment("py-mlp")

"""examples/notebook_flow.py --quick against a real server: train digits, search, deploy/score."""

from __future__ import annotations

import os
import re
import subprocess

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.slow
def test_notebook_flow_quick(server, tmp_path):
    for module in ("torch", "sklearn", "numpy"):
        pytest.importorskip(module)
    env = {k: v for k, v in os.environ.items() if not k.startswith("STOKE_")}
    env["XDG_CONFIG_HOME"] = str(tmp_path)
    run = subprocess.run(["/usr/bin/python3", os.path.join(REPO, "examples", "notebook_flow.py"), "--quick",
                          "--url", server.url, "--token", server.admin_token],
                         capture_output=True, text=True, timeout=240, env=env)
    out = run.stdout + run.stderr
    assert run.returncode == 0, out
    # The elastic training job's workers log each epoch: "epoch 2 step 69 world 2 ... val_acc 0.95".
    assert re.search(r"epoch \d+ step \d+ world \d", out), out
    found = re.search(r"accuracy of job (\d+)'s model on 64 held-out digits: ([0-9.]+)", out)
    assert found, out
    assert float(found.group(2)) >= 0.8, out

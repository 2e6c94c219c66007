"""`pip install ./python` gives the `stoke` package and the top-level `emetrics` module."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.slow
def test_pip_install_into_a_venv(tmp_path):
    if subprocess.run([sys.executable, "-c", "import venv, ensurepip"], capture_output=True).returncode != 0:
        pytest.skip("python3-venv is not installed")
    src = tmp_path / "src"  # a copy: pip's build files must not land in the checkout
    shutil.copytree(PYTHON_DIR, src, ignore=shutil.ignore_patterns("__pycache__", "build", "*.egg-info", "tests"))
    venv = tmp_path / "venv"
    # System site packages give the venv Debian's setuptools, so the build needs no network.
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True, timeout=60)
    pip = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--no-build-isolation", "--no-index", str(src)],
                         capture_output=True, text=True, timeout=120)
    assert pip.returncode == 0, pip.stdout + pip.stderr
    probe = subprocess.run([str(venv / "bin" / "python"), "-c",
                            "import stoke, emetrics; print(stoke.__file__); print(emetrics.__file__); "
                            "print(emetrics.EMetrics is stoke.emetrics.EMetrics, stoke.__version__)"],
                           capture_output=True, text=True, timeout=60, cwd=str(tmp_path),
                           env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    assert probe.returncode == 0, probe.stderr
    stoke_file, emetrics_file, check = probe.stdout.splitlines()
    assert stoke_file.startswith(str(venv)) and emetrics_file.startswith(str(venv))
    assert check == "True 0.1.0"

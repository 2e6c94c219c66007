"""Fixtures for the elastic-job end-to-end tests: a real `stoke server` that runs real `stoke-worker`
processes (libtorch + Gloo), a TorchScript MLP and a synthetic classification set made here with
Debian's python3-torch and numpy."""

import os
import sys

import numpy as np
import pytest
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "e2e"))

from harness import StokeServer  # noqa: E402


def make_problem(directory, samples=4096, features=16, classes=4, seed=0):
    """A separable 4-class problem and an MLP for it; returns (model.pt, train.npz, val.npz)."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(0, 3, size=(classes, features)).astype(np.float32)
    y = rng.integers(0, classes, size=samples).astype(np.int64)
    x = (centers[y] + rng.normal(0, 1, size=(samples, features))).astype(np.float32)
    split = samples * 3 // 4
    train, val = os.path.join(directory, "train.npz"), os.path.join(directory, "val.npz")
    np.savez(train, x=x[:split], y=y[:split])
    np.savez(val, x=x[split:], y=y[split:])
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(features, 64), torch.nn.ReLU(), torch.nn.Linear(64, classes))
    path = os.path.join(directory, "model.pt")
    torch.jit.script(model).save(path)
    return path, train, val


@pytest.fixture(scope="module")
def problem(tmp_path_factory):
    return make_problem(str(tmp_path_factory.mktemp("problem")))


@pytest.fixture(scope="module")
def server():
    srv = StokeServer(cpu_slots=3)
    with srv:
        yield srv

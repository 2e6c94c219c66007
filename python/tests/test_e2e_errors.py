"""Typed errors carry the server's code, message and field; features the server lacks say so."""

from __future__ import annotations


import pytest

import stoke


@pytest.mark.parametrize("kwargs,field", [
    ({"cpus": 1000}, "resources.cpus"),
    ({"cpus": 0}, "resources.cpus"),
    ({"gpus": 1}, "resources.gpus"),
    ({"memory": "lots"}, "resources.memory"),
    ({"env": {"STOKE_SECRET": "x"}}, "env.STOKE_SECRET"),
    ({"env": {"1BAD": "x"}}, "env.1BAD"),
    ({"priority": 5000}, "priority"),
    ({"working_dir": "relative/dir"}, "working_dir"),
])
def test_invalid_submissions_name_the_field(client, kwargs, field):
    with pytest.raises(stoke.InvalidArgument) as e:
        client.submit(["true"], **kwargs)
    assert e.value.field == field, e.value
    assert e.value.status == 400 and e.value.code == "invalid_argument" and e.value.message
    assert isinstance(e.value, ValueError)  # usable with plain `except ValueError`


def test_empty_program_and_bad_archive(client, tmp_path):
    with pytest.raises(stoke.InvalidArgument) as e:
        client.submit([""])
    assert e.value.field == "argv.0"
    with pytest.raises(stoke.InvalidArgument) as e:
        client._post_multipart("jobs", {"argv": ["true"]}, b"this is not an archive")
    assert e.value.field == "code"
    with pytest.raises(stoke.InvalidArgument) as e:
        client.submit(["true"], code_dir=tmp_path / "missing")
    assert e.value.field == "code"


def test_not_found_unauthenticated_permission_denied(client, server):
    with pytest.raises(stoke.NotFound) as e:
        client.job(987654)
    assert e.value.status == 404 and not isinstance(e.value, stoke.NotSupportedByServer)
    with pytest.raises(stoke.Unauthenticated):
        stoke.Client(server.url, "stk_wrong", config_path="").jobs()
    with pytest.raises(stoke.Unauthenticated):
        stoke.Client(server.url, "", config_path="").whoami()
    dave = client.with_token(client.create_token("dave")["token"])
    with pytest.raises(stoke.PermissionDenied) as e:
        dave.create_token("mallory", admin=True)
    assert e.value.status == 403
    # Another user's job is not found, not forbidden (existence is not leaked).
    mine = client.submit(["true"])
    with pytest.raises(stoke.NotFound):
        dave.job(mine.id)
    mine.wait(timeout=30, progress=False)


def test_server_unavailable_on_a_closed_port():
    from stoke_server import free_port
    c = stoke.Client(f"http://127.0.0.1:{free_port()}", "x", config_path="")
    with pytest.raises(stoke.ServerUnavailable) as e:
        c.jobs()
    assert isinstance(e.value, ConnectionError)


def test_missing_routes_raise_not_supported(client, tmp_path):
    """A server without deployments says so clearly; client-side checks of train() need no server."""
    model = tmp_path / "model.pt"
    model.write_bytes(b"not really a model")
    data = tmp_path / "train.npz"
    data.write_bytes(b"x")
    try:
        client.deployments()
    except stoke.NotSupportedByServer as e:
        assert e.status == 404 and "deployments" in str(e)
        with pytest.raises(stoke.NotSupportedByServer):
            client.deploy(str(model), name="d")
    with pytest.raises(stoke.InvalidArgument) as e:
        client.train(str(model), str(data), workers=(3, 2))
    assert e.value.field == "workers"

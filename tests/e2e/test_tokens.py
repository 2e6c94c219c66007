"""Tokens and isolation: users see only their own jobs, admins see all, revocation, hashed storage."""

import os

import pytest

from conftest import make_user


@pytest.fixture(scope="module")
def users(server):
    alice, alice_id = make_user(server, "alice")
    bob, _ = make_user(server, "bob")
    return {"alice": server.client(alice), "bob": server.client(bob), "alice_token": alice, "alice_id": alice_id}


def test_whoami(users):
    r = users["alice"].get("whoami")
    assert r.status == 200 and r.json() == {"user": "alice", "admin": False}, r


def test_users_see_only_their_own_jobs(server, users):
    a, b, admin = users["alice"], users["bob"], server.client()
    ja = a.submit(["true"], name="alice-job")
    jb = b.submit(["true"], name="bob-job")
    assert ja["user"] == "alice" and jb["user"] == "bob"
    a.wait_state(ja["id"])
    b.wait_state(jb["id"])
    names_a = {j["name"] for j in a.get("jobs", query={"limit": 500}).json()["jobs"]}
    names_b = {j["name"] for j in b.get("jobs", query={"limit": 500}).json()["jobs"]}
    assert "alice-job" in names_a and "bob-job" not in names_a, names_a
    assert "bob-job" in names_b and "alice-job" not in names_b, names_b
    names_admin = {j["name"] for j in admin.get("jobs", query={"limit": 500}).json()["jobs"]}
    assert {"alice-job", "bob-job"} <= names_admin
    only_alice = admin.get("jobs", query={"user": "alice", "limit": 500}).json()["jobs"]
    assert only_alice and all(j["user"] == "alice" for j in only_alice)
    r = b.get("jobs", query={"user": "alice"})
    assert r.status == 403 or all(j["user"] == "bob" for j in r.json()["jobs"]), r
    # existence of another user's job is not leaked: 404 everywhere
    jid = ja["id"]
    for method, path, body in (("GET", f"jobs/{jid}", None), ("POST", f"jobs/{jid}/kill", None),
                               ("DELETE", f"jobs/{jid}", None), ("GET", f"jobs/{jid}/logs", None),
                               ("GET", f"jobs/{jid}/result", None), ("GET", f"jobs/{jid}/metrics", None),
                               ("POST", f"jobs/{jid}/metrics", {"metrics": [{"step": 0, "values": {"x": 1}}]})):
        r = b.request(method, path, body)
        assert r.status == 404 and r.error()["code"] == "not_found", (method, path, r)
    assert admin.get(f"jobs/{jid}").status == 200
    assert admin.get(f"jobs/{jid}/logs").status == 200


def test_admin_only_token_routes(users):
    for method, path, body in (("POST", "tokens", {"user": "eve", "admin": True}), ("GET", "tokens", None),
                               ("DELETE", "tokens/1", None)):
        r = users["alice"].request(method, path, body)
        assert r.status == 403 and r.error()["code"] == "permission_denied", (method, path, r)


def test_token_list_hides_secrets(server):
    r = server.client().get("tokens")
    assert r.status == 200, r
    tokens = r.json()["tokens"]
    assert {"alice", "bob"} <= {t["user"] for t in tokens}
    for t in tokens:
        assert "token" not in t and set(t) >= {"id", "user", "admin", "created_at", "revoked"}, t


def test_tokens_are_stored_hashed(server, users):
    secret = users["alice_token"].encode()
    for root, _, files in os.walk(server.data_dir):
        for name in files:
            path = os.path.join(root, name)
            with open(path, "rb") as f:
                assert secret not in f.read(), f"token text found in {path}"


def test_cli_token_create_and_whoami(server):
    r = server.cli("token", "create", "--user", "carol", "--json")
    assert r.returncode == 0, r.stderr
    import json
    token = json.loads(r.stdout)["token"]
    r = server.cli("whoami", token=token)
    assert r.returncode == 0 and "carol" in r.stdout, (r.stdout, r.stderr)


def test_revoke(server, users):
    admin = server.client()
    r = admin.delete(f"tokens/{users['alice_id']}")
    assert r.status == 204, r
    r = users["alice"].get("whoami")
    assert r.status == 401 and r.error()["code"] == "unauthenticated", r
    listed = {t["id"]: t for t in admin.get("tokens").json()["tokens"]}
    assert listed[users["alice_id"]]["revoked"] is True
    assert users["bob"].get("whoami").status == 200, "revoking one token leaves others working"

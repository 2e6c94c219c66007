"""Operations endpoints: /healthz, /metrics (Prometheus text), openapi.json, whoami, cluster."""

import re

from harness import Client

PROM_LINE = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? [-+]?([0-9.eE+-]+|Inf|NaN)( [0-9]+)?$')


def test_healthz_needs_no_token(server):
    r = Client("127.0.0.1", server.port).get("/healthz")
    assert r.status == 200, r
    assert r.json() == {"status": "ok"}


def test_metrics_is_prometheus_text(server, client):
    client.submit(["true"])  # at least one request on a job route, so the histogram has a series
    assert Client("127.0.0.1", server.port).get("/metrics").status == 401
    r = client.get("/metrics")
    assert r.status == 200, r
    assert r.headers.get("content-type", "").startswith("text/plain"), r.headers
    text = r.text
    for line in text.splitlines():
        if line and not line.startswith("#"):
            assert PROM_LINE.match(line), f"not a Prometheus sample line: {line!r}"
    assert re.search(r'^stoke_slots_total\{kind="cpu"\} 4(\.0)?$', text, re.M), text
    assert re.search(r'^stoke_slots_used\{kind="cpu"\} ', text, re.M), text
    assert re.search(r"^stoke_queue_length ", text, re.M), text
    assert re.search(r'^stoke_jobs\{state="[A-Z]+"\} ', text, re.M), text
    assert re.search(r'^stoke_http_request_duration_seconds_bucket\{.*le="\+Inf".*\} ', text, re.M), text
    assert "# TYPE stoke_http_request_duration_seconds histogram" in text


def test_openapi_lists_the_routes(client):
    r = client.get("openapi.json")
    assert r.status == 200, r
    doc = r.json()
    assert "openapi" in doc or "swagger" in doc, list(doc)

    def norm(path):
        path = path[len("/api/v1"):] if path.startswith("/api/v1") else path
        return re.sub(r"\{[^}]*\}", "{}", path)

    paths = {norm(p): set(ops) for p, ops in doc["paths"].items()}
    want = {
        "/jobs": {"get", "post"}, "/jobs/{}": {"get", "delete"}, "/jobs/{}/kill": {"post"},
        "/jobs/{}/logs": {"get"}, "/jobs/{}/result": {"get"}, "/jobs/{}/metrics": {"get", "post"},
        "/tokens": {"get", "post"}, "/tokens/{}": {"delete"}, "/whoami": {"get"}, "/cluster": {"get"},
    }
    for path, ops in want.items():
        assert path in paths, f"openapi.json lacks {path}; has {sorted(paths)}"
        assert ops <= paths[path], f"{path}: wants {ops}, lists {paths[path]}"


def test_whoami_admin(client):
    r = client.get("whoami")
    assert r.status == 200, r
    assert r.json()["admin"] is True


def test_cluster_reports_the_pool(client):
    r = client.get("cluster")
    assert r.status == 200, r
    doc = r.json()
    assert doc["cpus"]["total"] == 4, doc
    assert 0 <= doc["cpus"]["used"] <= 4
    assert doc["gpus"] == [], doc  # --gpus none
    assert isinstance(doc["running"], list) and isinstance(doc["queue"], list)
    assert len([s for s in doc["slots"] if s["kind"] == "cpu"]) == 4, doc["slots"]


def test_unknown_route_is_404_json(client):
    r = client.get("no-such-thing")
    assert r.status == 404, r
    assert r.error().get("code") == "not_found", r

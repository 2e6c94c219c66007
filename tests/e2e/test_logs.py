"""Logs: combined stdout+stderr, offset/tail, X-Stoke-Log-Offset, live follow (plain and SSE), CLI logs -f."""

import time

TICKS = "for i in $(seq 1 10); do echo tick $i; echo err $i >&2; sleep 0.2; done"


def read_lines_with_times(resp, deadline_s):
    """Reads a streamed body line by line; returns [(monotonic time, line)] until EOF."""
    out, end = [], time.monotonic() + deadline_s
    while time.monotonic() < end:
        line = resp.readline()
        if not line:
            return out
        out.append((time.monotonic(), line.decode().rstrip("\r\n")))
    raise AssertionError(f"stream still open after {deadline_s}s; got {out[-3:]}")


def test_follow_streams_live_and_ends_with_the_job(client):
    job = client.submit(["sh", "-c", TICKS])
    conn, resp = client.open_stream(f"jobs/{job['id']}/logs", query={"follow": "true"}, timeout_s=30)
    try:
        assert resp.status == 200, resp.status
        lines = read_lines_with_times(resp, 30)
    finally:
        conn.close()
    ticks = [(t, line) for t, line in lines if line.startswith("tick")]
    assert [line for _, line in ticks] == [f"tick {i}" for i in range(1, 11)], lines
    assert [line for _, line in lines if line.startswith("err")] == [f"err {i}" for i in range(1, 11)]
    spread = ticks[-1][0] - ticks[0][0]
    assert spread > 1.0, f"lines arrived within {spread:.2f}s: not streamed live"
    assert client.job(job["id"])["state"] == "COMPLETED"


def test_follow_as_server_sent_events(client):
    job = client.submit(["sh", "-c", "echo one; sleep 0.5; echo two"])
    conn, resp = client.open_stream(f"jobs/{job['id']}/logs", query={"follow": "true"},
                                    headers={"Accept": "text/event-stream"}, timeout_s=30)
    try:
        assert resp.status == 200
        assert resp.getheader("Content-Type", "").startswith("text/event-stream"), resp.getheaders()
        lines = [line for _, line in read_lines_with_times(resp, 30)]
    finally:
        conn.close()
    data = [line[len("data:"):].strip() for line in lines if line.startswith("data:")]
    assert data[:2] == ["one", "two"], lines
    assert "event: end" in lines, lines


def test_offset_tail_and_offset_header(client):
    job = client.submit(["sh", "-c", "for i in 1 2 3 4 5; do echo line$i; done"])
    client.wait_state(job["id"])
    r = client.get(f"jobs/{job['id']}/logs")
    assert r.status == 200 and r.text == "".join(f"line{i}\n" for i in range(1, 6)), r
    assert int(r.headers["x-stoke-log-offset"]) == len(r.body)
    r = client.get(f"jobs/{job['id']}/logs", query={"offset": 12})
    assert r.text == "line3\nline4\nline5\n", r
    assert int(r.headers["x-stoke-log-offset"]) == 30
    r = client.get(f"jobs/{job['id']}/logs", query={"tail": 2})
    assert r.text == "line4\nline5\n", r
    r = client.get(f"jobs/{job['id']}/logs", query={"offset": 30})
    assert r.status == 200 and r.text == ""


def test_follow_from_offset_resumes(client):
    job = client.submit(["sh", "-c", "echo a; sleep 0.6; echo b"])
    first = client.wait_state(job["id"], ("RUNNING", "COMPLETED"))
    assert first
    time.sleep(0.2)
    r = client.get(f"jobs/{job['id']}/logs")
    off = int(r.headers["x-stoke-log-offset"])
    conn, resp = client.open_stream(f"jobs/{job['id']}/logs", query={"follow": "true", "offset": off})
    try:
        rest = resp.read().decode()
    finally:
        conn.close()
    assert r.text + rest == "a\nb\n", (r.text, rest)


def test_cli_logs_follow(server, client):
    job = client.submit(["sh", "-c", "for i in 1 2 3; do echo cli$i; sleep 0.3; done"])
    r = server.cli("logs", "-f", str(job["id"]), timeout_s=30)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["cli1", "cli2", "cli3"], r.stdout


def test_many_followers_all_get_everything(client):
    job = client.submit(["sh", "-c", "sleep 0.3; for i in $(seq 1 50); do echo n$i; done; sleep 0.2"])
    streams = [client.open_stream(f"jobs/{job['id']}/logs", query={"follow": "true"}) for _ in range(20)]
    try:
        bodies = [resp.read().decode() for _, resp in streams]
    finally:
        for conn, _ in streams:
            conn.close()
    want = "".join(f"n{i}\n" for i in range(1, 51))
    assert all(b == want for b in bodies), [b[:40] for b in bodies if b != want]

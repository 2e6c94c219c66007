"""kill -9 of the server mid-run, then restart on the same data dir and port: every job accounted for,
none twice, running jobs re-attached with their logs continuing, accepted submissions durable."""

import threading
import time

import harness


def test_kill9_and_restart_reattaches(fresh_server, scratch):
    server = fresh_server
    client = server.client()
    done = client.submit(["sh", "-c", "echo finished-before; exit 0"], name="done")
    client.wait_state(done["id"])
    client.post(f"jobs/{done['id']}/metrics", {"metrics": [{"step": s, "values": {"m": s}} for s in range(10)]})
    gate = scratch / "gate"
    # long: prints a tick every 0.1 s until the gate opens, then exits 3; "started" printed exactly once
    long_job = client.submit(["sh", "-c", f"echo started; i=0; while [ ! -e {gate} ]; do i=$((i+1)); "
                                          f"echo tick $i; sleep 0.1; done; echo end; exit 3"], name="long")
    # ends while the server is down: its exit must still be recorded
    short = client.submit(["sh", "-c", f"while [ ! -e {gate}.short ]; do sleep 0.05; done; exit 0"],
                          name="short", resources={"cpus": 2})
    client.wait_state(long_job["id"], "RUNNING")
    client.wait_state(short["id"], "RUNNING")
    queued = client.submit(["sh", "-c", "echo queued-ran"], name="queued", resources={"cpus": 4})
    assert client.job(queued["id"])["state"] == "QUEUED"
    pid_before = client.job(long_job["id"])["pid"]
    harness.wait_until(lambda: "tick 3" in client.logs(long_job["id"]), 10, "some ticks")
    before = {j["id"]: j for j in client.get("jobs", query={"limit": 500}).json()["jobs"]}

    server.kill9()
    (scratch / "gate.short").touch()  # finishes while nobody watches
    time.sleep(0.5)
    server.start()
    client = server.client()

    after = client.get("jobs", query={"limit": 500}).json()["jobs"]
    ids = [j["id"] for j in after]
    assert sorted(ids) == sorted(before) and len(ids) == len(set(ids)), (ids, list(before))
    assert client.job(done["id"])["state"] == "COMPLETED" and client.job(done["id"])["exit_code"] == 0
    m = client.get(f"jobs/{done['id']}/metrics", query={"name": "m"}).json()["series"][0]
    assert m["count"] == 10, m
    relong = client.job(long_job["id"])
    assert relong["state"] == "RUNNING" and relong["pid"] == pid_before, relong
    s = client.wait_state(short["id"], timeout_s=20)
    assert s["state"] == "COMPLETED" and s["exit_code"] == 0, s
    harness.wait_until(lambda: len(client.logs(long_job["id"]).splitlines()) > 15, 15, "ticks after restart")
    gate.touch()
    final = client.wait_state(long_job["id"], timeout_s=20)
    assert final["state"] == "FAILED" and final["exit_code"] == 3, final
    lines = client.logs(long_job["id"]).splitlines()
    assert lines[0] == "started" and lines.count("started") == 1, "the job was not started twice"
    ticks = [int(line.split()[1]) for line in lines if line.startswith("tick")]
    assert ticks == list(range(1, len(ticks) + 1)), "log continues without gaps or repeats"
    assert lines[-1] == "end"
    q = client.wait_state(queued["id"], timeout_s=30)
    assert q["state"] == "COMPLETED" and client.logs(queued["id"]) == "queued-ran\n", q
    assert len(client.get("jobs", query={"limit": 500}).json()["jobs"]) == len(before)


def test_accepted_submissions_survive_kill9(fresh_server):
    server = fresh_server
    accepted, stop = [], threading.Event()

    def submitter(k):
        c = server.client()
        i = 0
        while not stop.is_set():
            try:
                r = c.post("jobs", {"argv": ["true"], "name": f"s{k}-{i}"}, timeout_s=5)
            except OSError:
                return  # the server died under us: this one was not acknowledged
            if r.status == 201:
                accepted.append((r.json()["id"], f"s{k}-{i}"))
            i += 1

    threads = [threading.Thread(target=submitter, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    harness.wait_until(lambda: len(accepted) >= 100, 30, "100 accepted submissions")
    server.kill9()
    stop.set()
    for t in threads:
        t.join(timeout=10)
    server.start()
    client = server.client()
    jobs, cursor = [], None
    while True:
        q = {"limit": 500, **({"cursor": cursor} if cursor else {})}
        doc = client.get("jobs", query=q).json()
        jobs += doc["jobs"]
        cursor = doc["next_cursor"]
        if not cursor:
            break
    by_id = {j["id"]: j["name"] for j in jobs}
    assert len(by_id) == len(jobs), "a job is listed twice"
    names = [j["name"] for j in jobs]
    assert len(names) == len(set(names)), "a submission was stored twice"
    missing = [(i, n) for i, n in accepted if by_id.get(i) != n]
    assert not missing, f"{len(missing)} acknowledged submissions lost: {missing[:5]}"
    for jid, _ in accepted[:20]:
        client.wait_state(jid, timeout_s=60)

"""Job lifecycle end to end: concurrent submissions (CLI and REST), exit codes, logs, metrics, slots,
priority order, kill of a whole process tree, max_runtime, memory limit, delete, listing."""

import json
import os
import re
import threading
import time

import harness
import jobscripts
from jobscripts import PY


def cli_submit(server, *args):
    """`stoke submit --json ARGS`; returns the job id."""
    r = server.cli("submit", "--json", *args)
    assert r.returncode == 0, f"stoke submit {args} -> {r.returncode}\nstdout={r.stdout}\nstderr={r.stderr}"
    try:
        return int(json.loads(r.stdout)["id"])
    except (ValueError, KeyError, TypeError):
        m = re.search(r"\d+", r.stdout)
        assert m, f"stoke submit printed no job id: {r.stdout!r}"
        return int(m.group())


def assert_slots_never_oversubscribed(jobs, total):
    """Sweeps started/finished times: running jobs never hold more than `total` slots or share one."""
    events = []
    for j in jobs:
        assert j["started_at"], j
        events.append((harness.parse_time(j["started_at"]), 1, j))
        events.append((harness.parse_time(j["finished_at"]), 0, j))  # at equal times, ends come first
    running = {}
    for _, kind, j in sorted(events, key=lambda e: (e[0], e[1])):
        if kind == 0:
            running.pop(j["id"], None)
            continue
        cpus = j["allocation"]["cpus"]
        assert len(cpus) == j["resources"]["cpus"], f"job {j['id']} asked {j['resources']} got {j['allocation']}"
        assert len(set(cpus)) == len(cpus) and all(0 <= c < total for c in cpus), j["allocation"]
        for other in running.values():
            shared = set(other["allocation"]["cpus"]) & set(cpus)
            assert not shared, f"jobs {other['id']} and {j['id']} overlap in time on slots {shared}"
        running[j["id"]] = j
        assert sum(len(r["allocation"]["cpus"]) for r in running.values()) <= total


def test_twenty_concurrent_jobs_cli_and_rest(server, client, scratch):
    script = jobscripts.write(scratch, "worker.py", jobscripts.WORKER)
    specs = [{"idx": i, "code": i % 4, "cpus": 1 + i % 2, "via": "cli" if i % 2 else "rest"} for i in range(20)]
    ids, errors = {}, []

    def submit(spec):
        try:
            argv = [PY, script, str(spec["idx"]), str(spec["code"]), "0.3"]
            if spec["via"] == "rest":
                mem = "256M" if spec["idx"] % 4 == 0 else 0
                job = client.submit(argv, name=f"mix-{spec['idx']}", resources={"cpus": spec["cpus"], "memory": mem})
                ids[spec["idx"]] = job["id"]
            else:
                ids[spec["idx"]] = cli_submit(server, "--cpus", str(spec["cpus"]), "--mem", "256M",
                                              "--name", f"mix-{spec['idx']}", "--", *argv)
        except Exception as e:  # reported below with the spec
            errors.append((spec, e))

    threads = [threading.Thread(target=submit, args=(s,)) for s in specs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=90)
    assert not errors, errors
    assert len(set(ids.values())) == 20, ids

    finished = [client.wait_state(ids[s["idx"]], timeout_s=120) for s in specs]
    for spec, job in zip(specs, finished):
        want = "COMPLETED" if spec["code"] == 0 else "FAILED"
        assert job["state"] == want and job["exit_code"] == spec["code"], (spec, job)
        assert job["name"] == f"mix-{spec['idx']}" and job["resources"]["cpus"] == spec["cpus"], job
        log = client.logs(job["id"])
        assert f"hello-{spec['idx']} omp={spec['cpus']} " in log, log
        assert f"to-stderr-{spec['idx']}" in log, log
        assert "metrics-status 200" in log, log
        r = client.get(f"jobs/{job['id']}/metrics", query={"name": "loss,idx"})
        assert r.status == 200, r
        series = {s["name"]: s for s in r.json()["series"]}
        assert series["loss"]["count"] == 5, series
        assert [p[0] for p in series["loss"]["points"]] == [0, 1, 2, 3, 4]
        assert abs(series["loss"]["points"][2][1] - 1.0 / 3) < 1e-9
        assert series["idx"]["points"][0][1] == spec["idx"]
    assert_slots_never_oversubscribed(finished, 4)


def test_two_slot_job_waits_for_two_free_slots(client, gate):
    # three 1-slot blockers leave exactly one slot free
    blockers = [client.submit(["sh", "-c", f"while [ ! -e {gate} ]; do sleep 0.05; done"])["id"] for _ in range(3)]
    for b in blockers:
        client.wait_state(b, "RUNNING")
    two = client.submit(["sh", "-c", "echo omp=$OMP_NUM_THREADS"], resources={"cpus": 2})["id"]
    time.sleep(1.0)  # give the scheduler every chance to misplace it
    job = client.job(two)
    assert job["state"] == "QUEUED", f"2-slot job must wait while only 1 slot is free: {job}"
    assert job["reason"], "a waiting job says why it waits"
    gate.touch()
    job = client.wait_state(two)
    assert job["state"] == "COMPLETED" and len(job["allocation"]["cpus"]) == 2, job
    assert "omp=2" in client.logs(two)
    for b in blockers:
        client.wait_state(b)


def test_priority_order(client, gate):
    blocker = client.submit(["sh", "-c", f"while [ ! -e {gate} ]; do sleep 0.05; done"], resources={"cpus": 4})
    client.wait_state(blocker["id"], "RUNNING")
    prios = [0, 5, -3, 10, 5, 1000, -1000]
    jobs = [client.submit(["true"], priority=p, resources={"cpus": 4}, name=f"prio{p}") for p in prios]
    for j in jobs:
        assert client.job(j["id"])["state"] == "QUEUED"
    gate.touch()
    done = [client.wait_state(j["id"]) for j in jobs]
    started = [j["id"] for j in sorted(done, key=lambda j: (harness.parse_time(j["started_at"]), j["id"]))]
    expected = [j["id"] for j in sorted(jobs, key=lambda j: (-j["priority"], j["id"]))]
    assert started == expected, f"start order {started}, want priority-then-FIFO {expected}"


def _run_tree(client, scratch, mode, grace_s):
    script = jobscripts.write(scratch, "tree.py", jobscripts.TREE)
    pidfile = str(scratch / f"pids-{mode}")
    job = client.submit([PY, script, pidfile, mode])
    harness.wait_until(lambda: os.path.exists(pidfile), 30, "the job's process tree")
    pids = [int(p) for p in open(pidfile).read().split()]
    assert all(jobscripts.pid_alive(p) for p in pids), pids
    t0 = time.monotonic()
    r = client.post(f"jobs/{job['id']}/kill", query={"grace_s": grace_s})
    assert r.status == 202, r
    assert r.json()["id"] == job["id"]
    killed = client.wait_state(job["id"], timeout_s=grace_s + 15)
    assert killed["state"] == "KILLED", killed
    assert killed["exit_code"] in (128 + 15, 128 + 9), killed
    assert killed["reason"], killed
    harness.wait_until(lambda: not any(jobscripts.pid_alive(p) for p in pids), 5,
                       f"every process of the tree {pids} to be gone "
                       f"(alive: {[p for p in pids if jobscripts.pid_alive(p)]})")
    return time.monotonic() - t0


def test_kill_ends_whole_process_tree(client, scratch):
    elapsed = _run_tree(client, scratch, "plain", grace_s=1)
    assert elapsed < 10


def test_kill_escalates_to_sigkill_after_grace(client, scratch):
    elapsed = _run_tree(client, scratch, "stubborn", grace_s=1)
    assert elapsed >= 0.9, "processes that ignore SIGTERM last until the grace period ends"


def test_kill_queued_and_finished(client, gate):
    blocker = client.submit(["sh", "-c", f"while [ ! -e {gate} ]; do sleep 0.05; done"], resources={"cpus": 4})
    client.wait_state(blocker["id"], "RUNNING")
    queued = client.submit(["true"], resources={"cpus": 4})
    r = client.post(f"jobs/{queued['id']}/kill")
    assert r.status == 202, r
    assert client.job(queued["id"])["state"] == "KILLED"
    gate.touch()
    done = client.wait_state(blocker["id"])
    assert done["state"] == "COMPLETED"
    r = client.post(f"jobs/{blocker['id']}/kill")
    assert r.status == 202, r
    assert client.job(blocker["id"])["state"] == "COMPLETED", "killing a finished job is a no-op"


def test_max_runtime_kills_the_job(client):
    job = client.submit(["sleep", "30"], max_runtime_s=1)
    done = client.wait_state(job["id"], timeout_s=20)
    assert done["state"] == "KILLED", done
    assert "runtime" in done["reason"].lower(), done
    ran_s = harness.parse_time(done["finished_at"]) - harness.parse_time(done["started_at"])
    assert 0.9 <= ran_s < 12, f"ran {ran_s}s with max_runtime_s=1"


def test_memory_limit(client):
    hog = client.submit([PY, "-c", "b = bytearray(1 << 30); b[::4096] = b'x' * len(b[::4096]); print('allocated')"],
                        resources={"memory": "200M"})
    small = client.submit([PY, "-c", "b = bytearray(50 << 20); print('ok')"], resources={"memory": "200M"})
    assert client.job(hog["id"])["resources"]["memory"] == 200 * 1024 * 1024
    done = client.wait_state(hog["id"], timeout_s=60)
    assert done["state"] in ("FAILED", "KILLED") and done["exit_code"] != 0, done
    assert "allocated" not in client.logs(hog["id"])
    ok = client.wait_state(small["id"], timeout_s=60)
    assert ok["state"] == "COMPLETED", (ok, client.logs(small["id"]))


def test_exec_failure_is_127(client):
    job = client.submit(["no-such-command-for-stoke"])
    done = client.wait_state(job["id"])
    assert done["state"] == "FAILED" and done["exit_code"] == 127, done
    assert "no-such-command-for-stoke" in done["reason"] + client.logs(job["id"]), done


def test_delete(server, client, gate):
    job = client.submit(["sh", "-c", f"while [ ! -e {gate} ]; do sleep 0.05; done; echo bye"])
    client.wait_state(job["id"], "RUNNING")
    r = client.delete(f"jobs/{job['id']}")
    assert r.status == 409 and r.error()["code"] == "failed_precondition", r
    gate.touch()
    client.wait_state(job["id"])
    client.post(f"jobs/{job['id']}/metrics", {"metrics": [{"step": 1, "values": {"x": 1.0}}]})
    job_dir = os.path.join(server.data_dir, "jobs", str(job["id"]))
    r = client.delete(f"jobs/{job['id']}")
    assert r.status == 204, r
    assert client.get(f"jobs/{job['id']}").status == 404
    assert client.get(f"jobs/{job['id']}/metrics").status == 404
    assert not os.path.exists(job_dir), f"{job_dir} still exists"
    assert not os.path.exists(job["result_dir"])


def test_list_newest_first_with_cursor_and_filters(client):
    mine = [client.submit(["true"], name="listme")["id"] for _ in range(5)]
    for j in mine:
        client.wait_state(j)
    seen, cursor = [], None
    for _ in range(20):
        q = {"limit": 2, "name": "listme"}
        if cursor:
            q["cursor"] = cursor
        r = client.get("jobs", query=q)
        assert r.status == 200, r
        doc = r.json()
        assert len(doc["jobs"]) <= 2
        seen += [j["id"] for j in doc["jobs"]]
        cursor = doc["next_cursor"]
        if not cursor:
            break
    assert seen == sorted(mine, reverse=True), seen
    r = client.get("jobs", query={"state": "RUNNING,QUEUED", "name": "listme"})
    assert r.status == 200 and r.json()["jobs"] == [], r
    r = client.get("jobs", query={"state": "COMPLETED", "name": "listme", "limit": 500})
    assert sorted(j["id"] for j in r.json()["jobs"]) == sorted(mine)


def test_cli_wait_returns_exit_code_and_ls_shows_job(server):
    r = server.cli("submit", "--wait", "--name", "cliwait", "--", "sh", "-c", "exit 7", timeout_s=60)
    assert r.returncode == 7, (r.returncode, r.stdout, r.stderr)
    r = server.cli("ls", "--json")
    assert r.returncode == 0, r.stderr
    assert "cliwait" in r.stdout
    r = server.cli("ls")
    assert r.returncode == 0 and "cliwait" in r.stdout and "FAILED" in r.stdout, r.stdout


# A descendant that left the job's session (setsid) is still part of the job's tree (subreaper).
def test_kill_reaches_descendant_in_own_session(client, scratch):
    _run_tree(client, scratch, "setsid", grace_s=1)

"""Programs the end-to-end tests run as jobs (written to a temp dir, run with /usr/bin/python3)."""

import os

PY = "/usr/bin/python3"

# argv: IDX EXIT_CODE SLEEP_S — prints to stdout and stderr, posts metrics with the job's own token, exits.
WORKER = r'''
import json, os, sys, time, urllib.request
idx, code, sleep_s = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
print(f"hello-{idx} omp={os.environ.get('OMP_NUM_THREADS')} affinity={sorted(os.sched_getaffinity(0))}", flush=True)
print(f"to-stderr-{idx}", file=sys.stderr, flush=True)
items = [{"step": s, "values": {"loss": 1.0 / (s + 1), "idx": float(idx)}} for s in range(5)]
req = urllib.request.Request(
    f"{os.environ['STOKE_API']}/jobs/{os.environ['STOKE_JOB_ID']}/metrics",
    data=json.dumps({"metrics": items}).encode(), method="POST",
    headers={"Authorization": "Bearer " + os.environ["STOKE_TOKEN"], "Content-Type": "application/json"})
with urllib.request.urlopen(req, timeout=10) as r:
    print("metrics-status", r.status, json.loads(r.read()), flush=True)
time.sleep(sleep_s)
sys.exit(code)
'''

# argv: PIDFILE MODE(plain|stubborn|setsid) — builds a process tree, records its pids, then waits.
TREE = r'''
import os, signal, subprocess, sys, time
out, mode = sys.argv[1], sys.argv[2]
if mode == "stubborn":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
pids = [os.getpid()]
pids.append(subprocess.Popen(["sleep", "300"]).pid)
orphan = subprocess.run(["sh", "-c", "sleep 300 >/dev/null 2>&1 & echo $!"], capture_output=True, text=True)
pids.append(int(orphan.stdout))
ignore = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(300)"
pids.append(subprocess.Popen([sys.executable, "-c", ignore]).pid)
if mode == "setsid":
    pids.append(subprocess.Popen(["setsid", "sleep", "300"]).pid)
time.sleep(0.3)  # let the children exec before they are counted
with open(out + ".tmp", "w") as f:
    f.write(" ".join(map(str, pids)))
os.rename(out + ".tmp", out)
print("tree-ready", flush=True)
time.sleep(300)
'''

# Dumps what a job sees into $RESULT_DIR/seen.json, then exercises its own token's scope.
# argv: OTHER_JOB_ID
ENV_PROBE = r'''
import json, os, sys, urllib.error, urllib.request
seen = {k: v for k, v in os.environ.items()}
seen["cwd"] = os.getcwd()
seen["config.json"] = json.load(open("config.json")) if os.path.exists("config.json") else None
hp = os.environ.get("STOKE_HPARAMS")
seen["hparams_file"] = json.load(open(hp)) if hp and os.path.exists(hp) else None
api, tok, me = os.environ["STOKE_API"], os.environ["STOKE_TOKEN"], os.environ["STOKE_JOB_ID"]
def call(method, path, body=None):
    req = urllib.request.Request(api + path, method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": "Bearer " + tok, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
other = sys.argv[1]
seen["scope"] = {
    "get_own": call("GET", f"/jobs/{me}"),
    "post_own_metrics": call("POST", f"/jobs/{me}/metrics", {"metrics": [{"step": 0, "values": {"probe": 1.0}}]}),
    "get_other": call("GET", f"/jobs/{other}"),
    "post_other_metrics": call("POST", f"/jobs/{other}/metrics", {"metrics": [{"step": 0, "values": {"x": 1.0}}]}),
    "kill_other": call("POST", f"/jobs/{other}/kill"),
    "submit": call("POST", "/jobs", {"argv": ["true"]}),
    "list_tokens": call("GET", "/tokens"),
    "create_token": call("POST", "/tokens", {"user": "mallory", "admin": True}),
}
os.makedirs(os.environ["RESULT_DIR"], exist_ok=True)
with open(os.path.join(os.environ["RESULT_DIR"], "seen.json"), "w") as f:
    json.dump(seen, f)
print("probe-done", flush=True)
'''


def write(directory, name, text):
    path = os.path.join(str(directory), name)
    with open(path, "w") as f:
        f.write(text)
    return path


def pid_alive(pid):
    """True when the pid exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    except (OSError, IndexError):
        return False

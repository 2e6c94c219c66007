#include "wmla/launcher_script.h"

namespace stoke::wmla {

std::string_view LauncherScript() {
  static constexpr std::string_view kScript = R"PY(#!/usr/bin/python3
"""Stoke's launcher for WMLA-style jobs (written by the server; see src/wmla/launcher_script.h)."""
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time


def parse(argv):
    workers, code_dir, grid = 1, ".", ""
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--":
            if i + 1 >= len(argv):
                break
            return workers, code_dir, grid, argv[i + 1:]
        if i + 1 >= len(argv):
            break
        if a == "--workers":
            workers = int(argv[i + 1])
        elif a == "--code-dir":
            code_dir = argv[i + 1]
        elif a == "--grid":
            grid = argv[i + 1]
        else:
            sys.exit("wmla launcher: unknown option " + a)
        i += 2
    sys.exit("wmla launcher: usage: launch.py [--workers N] [--code-dir D] [--grid F] -- CMD ...")


def prepare_env(env):
    exec_id = "wmla-" + env.get("STOKE_JOB_ID", "0")
    result = env.get("RESULT_DIR") or os.path.abspath("result")
    env.setdefault("DLI_EXECID", exec_id)
    env.setdefault("APP_ID", exec_id)
    env.setdefault("CHECKPOINT_DIR", os.path.join(result, "checkpoint"))
    env.setdefault("SAVED_MODEL_DIR", os.path.join(result, "model"))
    if not env.get("DATA_DIR"):
        env["DATA_DIR"] = env.get("DLI_DATA_FS", "")
    for key in ("CHECKPOINT_DIR", "SAVED_MODEL_DIR"):
        os.makedirs(env[key], exist_ok=True)
    helpers = os.path.dirname(os.path.abspath(__file__))
    env["PYTHONPATH"] = helpers + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")


def prepare_config(work, code, grid):
    src = os.path.join(work, "config.json")
    if not os.path.exists(src):
        return
    with open(src) as f:
        cfg = json.load(f)
    if grid and isinstance(cfg, dict) and "_wmla_experiment" in cfg:
        with open(os.path.join(work, grid)) as f:
            table = json.load(f)
        cfg = table[int(cfg["_wmla_experiment"])]
        with open(src, "w") as f:
            json.dump(cfg, f)
    if os.path.abspath(code) != os.path.abspath(work):
        with open(os.path.join(code, "config.json"), "w") as f:
            json.dump(cfg, f)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


LOCK = threading.Lock()


def pump(pipe, sink, split):
    for line in iter(pipe.readline, b""):
        with LOCK:
            sink.write(line)
            sink.flush()
            split.write(line)
            split.flush()
    pipe.close()


def exit_status(code):
    return 128 - code if code < 0 else code


def main():
    workers, code_dir, grid, cmd = parse(sys.argv[1:])
    work = os.getcwd()
    code = os.path.normpath(os.path.join(work, code_dir))
    env = dict(os.environ)
    prepare_env(env)
    prepare_config(work, code, grid)
    log_dir = env.get("LOG_DIR") or work
    out_split = open(os.path.join(log_dir, "wmla-stdout.log"), "ab")
    err_split = open(os.path.join(log_dir, "wmla-stderr.log"), "ab")

    def say(text):  # the launcher's own words, in the combined log and in errlog
        with LOCK:
            data = ("wmla launcher: " + text + "\n").encode()
            sys.stderr.buffer.write(data)
            sys.stderr.buffer.flush()
            err_split.write(data)
            err_split.flush()

    gpus = [g for g in env.get("CUDA_VISIBLE_DEVICES", "").split(",") if g]
    port = free_port() if workers > 1 else None
    procs, pumps = [], []
    for rank in range(workers):
        e = dict(env)
        if workers > 1:
            e.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), WORLD_SIZE=str(workers), RANK=str(rank),
                     LOCAL_RANK=str(rank), LOCAL_WORLD_SIZE=str(workers),
                     OMP_NUM_THREADS=str(max(1, int(env.get("OMP_NUM_THREADS", "1")) // workers)))
            if gpus:
                per = max(1, len(gpus) // workers)
                e["CUDA_VISIBLE_DEVICES"] = ",".join(gpus[rank * per:(rank + 1) * per])
        try:
            p = subprocess.Popen(cmd, cwd=code, env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        except OSError as err:
            say("cannot start %s: %s" % (cmd[0], err))
            for q in procs:
                q.terminate()
            return 127
        procs.append(p)
        for pipe, sink, split in ((p.stdout, sys.stdout.buffer, out_split), (p.stderr, sys.stderr.buffer, err_split)):
            t = threading.Thread(target=pump, args=(pipe, sink, split), daemon=True)
            t.start()
            pumps.append(t)

    def forward(signum, frame):
        for q in procs:
            if q.poll() is None:
                q.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    status = 0
    while True:
        alive = [p for p in procs if p.poll() is None]  # polls every rank (any() would stop at the first)
        if not alive:
            break
        failed = [p for p in procs if p.returncode not in (None, 0)]
        if failed and status == 0:
            status = exit_status(failed[0].returncode)
            say("rank %d failed with status %d; stopping the others" % (procs.index(failed[0]), status))
            forward(signal.SIGTERM, None)
        time.sleep(0.05)
    if status == 0:
        for rank, p in enumerate(procs):
            if p.returncode != 0:
                status = exit_status(p.returncode)
                if workers > 1:
                    say("rank %d failed with status %d" % (rank, status))
                break
    for t in pumps:
        t.join()
    return status


if __name__ == "__main__":
    sys.exit(main())
)PY";
  return kScript;
}

std::string_view EmetricsHelper() {
  static constexpr std::string_view kScript = R"PY("""EMetrics work-alike for Stoke (WMLA/WML's emetrics.py API): records go to
$LOG_DIR/evaluation-metrics.txt as JSON lines, which the Stoke server reads as metrics; on close with a
subId, the test-group records are also written to $RESULT_DIR/val_dict_list.json."""
import json
import os
import time


class EMetrics:
    TEST_GROUP = "test"
    TRAIN_GROUP = "train"

    def __init__(self, subId, f):
        self.subId = subId
        self.f = f
        self.test_history = []

    @staticmethod
    def open(subId=None):
        folder = os.environ.get("LOG_DIR") or os.environ.get("JOB_STATE_DIR") or "/tmp"
        if subId is not None:
            folder = os.path.join(folder, str(subId))
            os.makedirs(folder, exist_ok=True)
        return EMetrics(subId, open(os.path.join(folder, "evaluation-metrics.txt"), "a"))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @staticmethod
    def _typed(v):
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            return {"value": str(v)}
        return {"type": 2 if isinstance(v, int) else 3, "value": str(v)}

    def record(self, group, iteration, values):
        if group == EMetrics.TEST_GROUP and self.subId is not None:
            entry = {"steps": iteration}
            entry.update(values)
            self.test_history.append(entry)
        rec = {"meta": {"training_id": os.environ.get("DLI_EXECID", ""), "time": int(time.time() * 1000), "rindex": 1},
               "grouplabel": group,
               "etimes": {"iteration": {"type": 2, "value": str(iteration)},
                          "time_stamp": {"value": time.strftime("%Y-%m-%dT%H:%M:%S")}},
               "values": {k: EMetrics._typed(v) for k, v in values.items()}}
        if self.subId is not None:
            rec["meta"]["subid"] = str(self.subId)
        self.f.write(json.dumps(rec) + "\n")
        self.f.flush()

    def close(self):
        if self.subId is not None and self.test_history and os.environ.get("RESULT_DIR"):
            with open(os.path.join(os.environ["RESULT_DIR"], "val_dict_list.json"), "w") as out:
                json.dump(self.test_history, out)
        self.f.close()
)PY";
  return kScript;
}

std::string_view ElogHelper() {
  static constexpr std::string_view kScript = R"PY("""ELog work-alike for Stoke: human-readable training lines on stdout (the exec log)."""
import sys
import time


class ELog:
    def __init__(self, subId=None, f=None):
        self.f = f or sys.stdout

    @staticmethod
    def open(subId=None):
        return ELog(subId)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _line(self, kind, iteration, values):
        now = int(time.time() * 1000)
        parts = ["[%s] %s" % (time.strftime("%Y-%m-%d %H:%M:%S"), kind), "Timestamp: %d" % now,
                 "Global steps: %s" % iteration, "Iteration: %s" % iteration]
        parts += ["%s: %s" % (k.capitalize(), v) for k, v in values.items()]
        self.f.write(",\t".join(parts) + "\n")
        self.f.flush()

    def recordTrain(self, name, iteration, global_step, loss, accuracy, worker):
        self._line("Train", iteration, {"loss": loss, "accuracy": accuracy})

    def recordTest(self, name, iteration, global_step, loss, accuracy):
        self._line("Test", iteration, {"loss": loss, "accuracy": accuracy})

    def close(self):
        pass
)PY";
  return kScript;
}

}  // namespace stoke::wmla

"""A throw-away one-node Slurm cluster on loopback, for side-by-side measurements.

Everything (munge key and socket, slurm.conf, state, spool, logs) lives in one temporary directory;
nothing under /etc is touched. Needs root (slurmd runs jobs as the submitting user) and the Debian
packages slurm-wlm and munge. Not thread-safe: one instance per benchmark process.
"""

import os
import shutil
import socket
import subprocess
import tempfile
import time


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SlurmCluster:
    """Starts munged, slurmctld and slurmd; `env` is what sbatch/squeue/scancel need."""

    def __init__(self, cpus=4, node="stokebench", scheduler_parameters=""):
        self.cpus = cpus
        self.scheduler_parameters = scheduler_parameters
        self.scheduler_type = os.environ.get("STOKE_BENCH_SLURM_SCHED", "sched/backfill")
        self.node = node
        self.dir = tempfile.mkdtemp(prefix="stoke-slurm-")
        self.procs = []
        self.env = dict(os.environ)

    def _path(self, *parts):
        return os.path.join(self.dir, *parts)

    def _write_conf(self):
        ctl_port, d_port = _free_port(), _free_port()
        for sub in ("state", "spool", "munge"):
            os.makedirs(self._path(sub), exist_ok=True)
        conf = f"""
ClusterName=stokebench
SlurmctldHost={socket.gethostname().split(".")[0]}(127.0.0.1)
MailProg=/bin/true
SlurmctldPort={ctl_port}
SlurmdPort={d_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket={self._path('munge', 'munge.socket')}
CredType=cred/munge
StateSaveLocation={self._path('state')}
SlurmdSpoolDir={self._path('spool')}
SlurmctldPidFile={self._path('slurmctld.pid')}
SlurmdPidFile={self._path('slurmd.pid')}
SlurmctldLogFile={self._path('slurmctld.log')}
SlurmdLogFile={self._path('slurmd.log')}
SlurmctldDebug=error
SlurmdDebug=error
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
SchedulerType={self.scheduler_type}
{"SchedulerParameters=" + self.scheduler_parameters if self.scheduler_parameters else ""}
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SlurmdParameters=config_overrides
ReturnToService=2
MinJobAge=2
MaxJobCount=100000
KillWait=2
NodeName={self.node} NodeAddr=127.0.0.1 NodeHostname={socket.gethostname()} CPUs={self.cpus} State=UNKNOWN
PartitionName=bench Nodes={self.node} Default=YES MaxTime=INFINITE State=UP
"""
        with open(self._path("slurm.conf"), "w") as f:
            f.write(conf)
        self.env["SLURM_CONF"] = self._path("slurm.conf")

    def _start_munge(self):
        key = self._path("munge", "munge.key")
        with open(key, "wb") as f:
            f.write(os.urandom(1024))
        os.chmod(key, 0o400)
        os.chmod(self._path("munge"), 0o711)
        subprocess.run(
            ["munged", "--force", f"--key-file={key}", f"--socket={self._path('munge', 'munge.socket')}",
             f"--pid-file={self._path('munge', 'munged.pid')}", f"--log-file={self._path('munge', 'munged.log')}",
             f"--seed-file={self._path('munge', 'munged.seed')}"],
            check=True, env=self.env)

    def _wait(self, what, predicate, timeout_s=30.0):
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.1)
        raise RuntimeError(f"slurm: {what} did not come up within {timeout_s}s; logs in {self.dir}")

    def _node_idle(self):
        r = subprocess.run(["sinfo", "-h", "-N", "-o", "%t"], env=self.env, capture_output=True, text=True)
        return r.returncode == 0 and r.stdout.strip().startswith("idle")

    def start(self):
        self._write_conf()
        self._start_munge()
        # -D keeps them in the foreground so we own the processes; -i ignores stale state.
        self.procs.append(subprocess.Popen(["slurmctld", "-D", "-i"], env=self.env,
                                           stdout=subprocess.DEVNULL, stderr=open(self._path("slurmctld.err"), "w")))
        self._wait("slurmctld", lambda: subprocess.run(["scontrol", "ping"], env=self.env,
                                                       capture_output=True, text=True).stdout.count("UP") > 0)
        self.procs.append(subprocess.Popen(["slurmd", "-D", "-N", self.node], env=self.env,
                                           stdout=subprocess.DEVNULL, stderr=open(self._path("slurmd.err"), "w")))
        self._wait("slurmd (node idle)", self._node_idle)
        return self

    def sbatch(self, script_args, out="/dev/null"):
        """Submits `--wrap` command; returns the job id (int)."""
        r = subprocess.run(["sbatch", "--parsable", "-n", "1", "-o", out, "--wrap", script_args],
                           env=self.env, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"sbatch failed: {r.stderr.strip()}")
        return int(r.stdout.strip().split(";")[0])

    def queue_length(self):
        r = subprocess.run(["squeue", "-h", "-o", "%i"], env=self.env, capture_output=True, text=True)
        return len(r.stdout.split())

    def cancel_all(self):
        subprocess.run(["scancel", "--partition=bench"], env=self.env, capture_output=True)
        self._wait("queue drain", lambda: self.queue_length() == 0, timeout_s=60)

    def _kill_strays(self):
        """SIGKILLs slurmstepd/job processes left behind by this cluster (they carry our SLURM_CONF)."""
        marker = f"SLURM_CONF={self.env['SLURM_CONF']}\0".encode() if "SLURM_CONF" in self.env else None
        if marker is None:
            return
        for pid in os.listdir("/proc"):
            if not pid.isdigit() or int(pid) == os.getpid():
                continue
            try:
                with open(f"/proc/{pid}/environ", "rb") as f:
                    if marker in f.read():
                        os.kill(int(pid), 9)
            except OSError:
                pass

    def stop(self):
        for p in reversed(self.procs):
            p.terminate()
        for p in reversed(self.procs):
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self._kill_strays()
        subprocess.run(["munged", "--stop", f"--socket={self._path('munge', 'munge.socket')}"],
                       env=self.env, capture_output=True)
        if not os.environ.get("STOKE_BENCH_KEEP"):
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        try:
            return self.start()
        except Exception:
            self.stop()
            raise

    def __exit__(self, *exc):
        self.stop()

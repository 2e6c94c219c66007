"""The Stoke client: the whole platform from Python (jobs, experiments, training, deployments, cluster)."""

from __future__ import annotations

import json
import os
import shlex
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from . import config as _config
from .archive import pack_directory, pack_files
from .deployments import Deployment
from .errors import InvalidArgument, NotSupportedByServer
from .experiments import Experiment
from .jobs import Job
from .multipart import encode as encode_multipart
from .transport import Transport

PathLike = Union[str, "os.PathLike[str]"]


class Client:
    """Talks to one Stoke server as one user.

    ``url`` and ``token`` default to ``STOKE_URL``/``STOKE_TOKEN``, then to the file ``stoke login`` writes
    (``~/.config/stoke/config.json``), then to ``http://127.0.0.1:8080`` without a token.
    Thread-safe: every call uses its own connection.
    """

    def __init__(self, url: Optional[str] = None, token: Optional[str] = None, *, timeout: float = 30.0,
                 config_path: Optional[str] = None) -> None:
        cfg = _config.resolve(url, token, config_path=config_path)
        self.url = cfg.url
        self.token = cfg.token
        self._t = Transport(cfg.url, cfg.token, timeout)

    def __repr__(self) -> str:
        return f"<stoke.Client {self.url}>"

    def with_token(self, token: str) -> "Client":
        """The same server as another user."""
        return Client(self.url, token, timeout=self._t.timeout, config_path="")

    # --- server --------------------------------------------------------------------------------------------
    def health(self) -> Dict[str, Any]:
        return self._t.get_json("/healthz")

    def whoami(self) -> Dict[str, Any]:
        return self._t.get_json("whoami")

    # --- jobs ----------------------------------------------------------------------------------------------
    def submit(self, command: Union[str, Sequence[str]], *, code_dir: Optional[PathLike] = None,
               name: Optional[str] = None, cpus: Optional[int] = None, gpus: Optional[int] = None,
               memory: Union[int, str, None] = None, env: Optional[Mapping[str, str]] = None,
               hparams: Optional[Mapping[str, Any]] = None, priority: Optional[int] = None,
               max_runtime_s: Optional[float] = None, working_dir: Optional[str] = None,
               exclude: Optional[Sequence[str]] = None) -> Job:
        """Submits a command job and returns it (queued or already starting).

        ``command`` is an argv list or a shell-like string (split with shlex, not run by a shell).
        ``code_dir`` is packed (tar.gz, ``exclude`` patterns left out; default: .git, __pycache__, ...)
        and unpacked into the job's working directory, where the command starts. ``memory`` is bytes or
        ``"512M"``/``"4G"``.
        """
        argv = shlex.split(command) if isinstance(command, str) else [str(a) for a in command]
        spec: Dict[str, Any] = {"argv": argv}
        resources = {k: v for k, v in (("cpus", cpus), ("gpus", gpus), ("memory", memory)) if v is not None}
        if resources:
            spec["resources"] = resources
        optional = {"name": name, "env": dict(env) if env is not None else None,
                    "hparams": dict(hparams) if hparams is not None else None, "priority": priority,
                    "max_runtime_s": max_runtime_s, "working_dir": working_dir}
        spec.update({k: v for k, v in optional.items() if v is not None})
        if code_dir is None:
            return Job(self._t, self._t.post_json("jobs", spec))
        code = pack_directory(os.fspath(code_dir), exclude)
        return Job(self._t, self._post_multipart("jobs", spec, code))

    def _post_multipart(self, path: str, spec: Union[Dict[str, Any], str], code: bytes,
                        code_name: str = "code.tar.gz", spec_type: str = "application/json") -> Any:
        spec_bytes = json.dumps(spec).encode() if isinstance(spec, dict) else spec.encode("utf-8")
        body, content_type = encode_multipart([("spec", spec_bytes, None, spec_type),
                                               ("code", code, code_name, "application/gzip")])
        return self._t.request("POST", path, body=body, content_type=content_type).json()

    def job(self, job_id: int) -> Job:
        return Job(self._t, self._t.get_json(f"jobs/{int(job_id)}"))

    def jobs(self, *, state: Union[str, Sequence[str], None] = None, name: Optional[str] = None,
             user: Optional[str] = None, limit: int = 50) -> List[Job]:
        """Jobs newest first (this user's; admins may pass ``user``), up to ``limit`` across pages."""
        if isinstance(state, str):
            state = [state]
        out: List[Job] = []
        cursor: Optional[str] = None
        while len(out) < limit:
            doc = self._t.get_json("jobs", query={"state": list(state) if state else None, "name": name,
                                                  "user": user, "limit": min(500, limit - len(out)),
                                                  "cursor": cursor})
            out.extend(Job(self._t, j) for j in doc.get("jobs", []))
            cursor = doc.get("next_cursor")
            if not cursor:
                break
        return out[:limit]

    # --- experiments ---------------------------------------------------------------------------------------
    def create_experiment(self, spec: Union[Mapping[str, Any], PathLike], *,
                          code_dir: Optional[PathLike] = None,
                          exclude: Optional[Sequence[str]] = None) -> Experiment:
        """Starts a hyperparameter search.

        ``spec`` is a dict (sent as JSON), the path of a ``.json`` file, or the path (or text) of a YAML
        spec, sent as ``application/yaml`` for the server to parse (PyYAML is not needed here). With
        ``code_dir`` the trials run in an unpacked copy of that directory.
        """
        payload, content_type = self._experiment_payload(spec)
        if code_dir is None:
            body = json.dumps(payload).encode() if isinstance(payload, dict) else payload.encode("utf-8")
            info = self._t.request("POST", "experiments", body=body, content_type=content_type).json()
        else:
            code = pack_directory(os.fspath(code_dir), exclude)
            info = self._post_multipart("experiments", payload, code, spec_type=content_type)
        return Experiment(self._t, info)

    @staticmethod
    def _experiment_payload(spec: Union[Mapping[str, Any], PathLike]) -> Tuple[Union[Dict[str, Any], str], str]:
        if isinstance(spec, Mapping):
            return dict(spec), "application/json"
        text = os.fspath(spec)
        if "\n" not in text and os.path.isfile(text):
            with open(text, encoding="utf-8") as f:
                content = f.read()
            if text.endswith(".json"):
                try:
                    return json.loads(content), "application/json"
                except ValueError as e:
                    raise InvalidArgument(f"{text} is not valid JSON: {e}", field="spec") from None
            return content, "application/yaml"
        if "\n" in text or ":" in text:
            return text, "application/yaml"  # YAML text given inline
        raise InvalidArgument(f"experiment spec file {text} does not exist", field="spec")

    def experiment(self, experiment_id: int) -> Experiment:
        return Experiment(self._t, self._t.get_json(f"experiments/{int(experiment_id)}"))

    def experiments(self, *, state: Optional[str] = None, limit: int = 50) -> List[Experiment]:
        """Experiments newest first, optionally only those in ``state`` (RUNNING, COMPLETED, ...)."""
        out: List[Experiment] = []
        cursor: Optional[str] = None
        while len(out) < limit:
            doc = self._t.get_json("experiments", query={"state": state,
                                                         "limit": min(500, limit - len(out)), "cursor": cursor})
            out.extend(Experiment(self._t, e) for e in doc.get("experiments", []))
            cursor = doc.get("next_cursor")
            if not cursor:
                break
        return out[:limit]

    # --- elastic training ----------------------------------------------------------------------------------
    def train(self, model: PathLike, data: PathLike, *, val: Optional[PathLike] = None,
              workers: Union[int, Tuple[int, int]] = 1, global_batch: int = 64, epochs: int = 1,
              optimizer: str = "sgd", lr: float = 0.01, loss: str = "cross_entropy",
              name: Optional[str] = None, gpus_per_worker: Optional[int] = None,
              cpus_per_worker: Optional[int] = None, seed: Optional[int] = None,
              priority: Optional[int] = None, options: Optional[Mapping[str, Any]] = None) -> Job:
        """Trains a TorchScript module data-parallel on 1..N workers (an ``elastic`` job).

        ``model`` is a file saved with ``torch.jit.script(m).save(...)``; ``data``/``val`` are ``.npz``,
        ``.npy``, ``.pt`` or ``.csv`` files. Local files are uploaded with the job; a path that does not
        exist here is passed to the server as is. ``workers`` is a count or ``(min, max)``: the job grows
        into idle slots up to ``max`` and shrinks down to ``min`` without restarting; ``global_batch``
        stays fixed whatever the number of workers. ``options`` adds engine options (``momentum``,
        ``weight_decay``, ``lr_schedule``, ``warmup_steps``, ``max_steps``, ... as in docs/api.md).

        Raises :class:`NotSupportedByServer` while the server does not run elastic jobs.
        """
        lo, hi = (workers, workers) if isinstance(workers, int) else (int(workers[0]), int(workers[1]))
        if lo < 1 or hi < lo:
            raise InvalidArgument("workers must be N >= 1 or (min, max) with 1 <= min <= max", field="workers")
        uploads: List[Tuple[str, str]] = []

        def file_ref(path: Optional[PathLike], role: str) -> Optional[str]:
            if path is None:
                return None
            p = os.fspath(path)
            if os.path.isfile(p):
                arcname = f"{role}{_suffix(p)}"
                uploads.append((p, arcname))
                return arcname
            return p

        train: Dict[str, Any] = {"model": file_ref(model, "model"), "data": file_ref(data, "train"),
                                 "global_batch": int(global_batch), "epochs": int(epochs), "optimizer": optimizer,
                                 "lr": float(lr), "loss": loss}
        if val is not None:
            train["val"] = file_ref(val, "val")
        if seed is not None:
            train["seed"] = int(seed)
        train.update(dict(options or {}))
        spec: Dict[str, Any] = {"type": "elastic", "workers": {"min": lo, "max": hi}, "train": train}
        if name:
            spec["name"] = name
        per_worker = {k: v for k, v in (("gpus", gpus_per_worker), ("cpus", cpus_per_worker)) if v is not None}
        if per_worker:
            spec["resources"] = per_worker
        if priority is not None:
            spec["priority"] = priority
        try:
            if uploads:
                return Job(self._t, self._post_multipart("jobs", spec, pack_files(uploads)))
            return Job(self._t, self._t.post_json("jobs", spec))
        except InvalidArgument as e:
            if e.field == "type":
                raise NotSupportedByServer("this server does not run elastic training jobs yet "
                                           f"(it answered: {e.message})", status=e.status) from None
            raise

    # --- deployments ---------------------------------------------------------------------------------------
    def deploy(self, model: Union[Job, PathLike], *, name: Optional[str] = None, replicas: int = 1,
               path_in_result: str = "model.pt", max_batch_size: Optional[int] = None,
               max_latency_ms: Optional[float] = None, gpus_per_replica: Optional[int] = None) -> Deployment:
        """Serves a TorchScript model over REST: ``model`` is a finished training :class:`Job` (its
        ``path_in_result`` file) or a local model file (uploaded). Returns the deployment.
        Raises :class:`NotSupportedByServer` while the server has no deployments."""
        spec: Dict[str, Any] = {"replicas": int(replicas)}
        if name:
            spec["name"] = name
        for key, value in (("max_batch_size", max_batch_size), ("max_latency_ms", max_latency_ms),
                           ("gpus_per_replica", gpus_per_replica)):
            if value is not None:
                spec[key] = value
        if isinstance(model, Job):
            spec["model"] = {"job": model.id, "path": path_in_result}
            return Deployment(self._t, self._t.post_json("deployments", spec))
        p = os.fspath(model)
        with open(p, "rb") as f:
            data = f.read()
        # The server takes the TorchScript file itself as the multipart part `model`.
        body, content_type = encode_multipart([("spec", json.dumps(spec).encode(), None, "application/json"),
                                               ("model", data, os.path.basename(p), "application/octet-stream")])
        return Deployment(self._t, self._t.request("POST", "deployments", body=body,
                                                   content_type=content_type).json())

    def deployment(self, deployment_id: Union[int, str]) -> Deployment:
        return Deployment(self._t, self._t.get_json(f"deployments/{deployment_id}"))

    def deployments(self) -> List[Deployment]:
        return [Deployment(self._t, d) for d in self._t.get_json("deployments").get("deployments", [])]

    # --- cluster -------------------------------------------------------------------------------------------
    def cluster(self) -> Dict[str, Any]:
        """The raw cluster view: cpus, gpus, memory, slots, running jobs and the queue."""
        return self._t.get_json("cluster")

    def slots(self) -> List[Dict[str, Any]]:
        """Every slot (CPU slots, then GPUs) with the job and user holding it (None when free)."""
        c = self.cluster()
        gpus = [{"kind": "gpu", **g} for g in c.get("gpus", [])]
        return list(c.get("slots", [])) + gpus

    def usage(self) -> Dict[str, Dict[str, int]]:
        """``{"cpus": {"total", "used"}, "gpus": {"total", "used"}, "memory": {"total", "used"}}``."""
        c = self.cluster()
        gpus = c.get("gpus", [])
        return {"cpus": dict(c.get("cpus", {})),
                "gpus": {"total": len(gpus), "used": sum(1 for g in gpus if g.get("job") is not None)},
                "memory": dict(c.get("memory", {}))}

    def queue(self) -> List[Job]:
        """Jobs waiting for slots, in scheduling order; ``info["waiting_reason"]`` says why."""
        return [Job(self._t, j) for j in self.cluster().get("queue", [])]

    def running(self) -> List[Job]:
        return [Job(self._t, j) for j in self.cluster().get("running", [])]

    # --- tokens (admin) ------------------------------------------------------------------------------------
    def create_token(self, user: str, *, admin: bool = False) -> Dict[str, Any]:
        """Creates a token; the returned ``token`` text is shown only this once."""
        return self._t.post_json("tokens", {"user": user, "admin": admin})

    def tokens(self) -> List[Dict[str, Any]]:
        return list(self._t.get_json("tokens").get("tokens", []))

    def revoke_token(self, token_id: int) -> None:
        self._t.request("DELETE", f"tokens/{int(token_id)}")


def _suffix(path: str) -> str:
    name = os.path.basename(path)
    for ext in (".tar.gz", ".npz", ".npy", ".pt", ".csv", ".pth"):
        if name.endswith(ext):
            return ext
    return os.path.splitext(name)[1]

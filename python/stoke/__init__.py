"""Stoke's Python client: submit and follow jobs, run hyperparameter searches, train, deploy, and report
metrics from inside a job. Pure standard library (pandas and PyYAML are used when present).

    import stoke
    client = stoke.Client()                      # STOKE_URL / STOKE_TOKEN or `stoke login`'s config
    job = client.submit("python3 train.py --lr 0.1", code_dir=".", cpus=2)
    job.wait()
    print(job.metrics("loss"))

Inside a job:

    hp = stoke.hparams(lr=0.01)
    stoke.report(step, loss=loss, accuracy=acc)
"""

from ._version import __version__
from .client import Client
from .deployments import Deployment
from .errors import (Aborted, AlreadyExists, Conflict, DeadlineExceeded, FailedPrecondition, InternalError,
                     InvalidArgument, NotFound, NotSupportedByServer, PermissionDenied, ResourceExhausted,
                     ServerUnavailable, StokeError, Unauthenticated)
from .experiments import Experiment
from .jobs import TERMINAL_STATES, Job
from .runtime import hparams, in_job, job_id, report

__all__ = [
    "__version__", "Client", "Job", "Experiment", "Deployment", "TERMINAL_STATES",
    "hparams", "report", "in_job", "job_id",
    "StokeError", "InvalidArgument", "Unauthenticated", "PermissionDenied", "NotFound", "Conflict",
    "AlreadyExists", "FailedPrecondition", "Aborted", "ResourceExhausted", "ServerUnavailable",
    "DeadlineExceeded", "InternalError", "NotSupportedByServer",
]

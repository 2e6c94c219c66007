#!/usr/bin/python3
# %% [markdown]
# # Stoke from a notebook: train digits, search hyperparameters, deploy the best, score it
#
# Everything goes through the Python client (`python/`, package `stoke`): no shell, no YAML editing.
# Run it as a script (`/usr/bin/python3 examples/notebook_flow.py [--quick]`) or open
# `notebook_flow.ipynb` (the same cells). It needs a running `stoke server`, `torch`, `numpy` and
# `sklearn` (Debian's /usr/bin/python3 has them) and reads the server and token as the CLI does
# (`STOKE_URL`/`STOKE_TOKEN` or `stoke login`; `--url`/`--token` here).
#
# Steps whose server routes are not there yet (elastic training, deployments) print a note and
# fall back to what the server can do (a command job; scoring the downloaded model locally).

# %%
import argparse
import os
import shutil
import sys
import tempfile
import textwrap

# The examples/ directory: this file's, or the notebook's working directory in Jupyter.
HERE = os.path.dirname(os.path.abspath(__file__)) if "__file__" in globals() else os.getcwd()
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "python"))  # the client from this checkout
import stoke  # noqa: E402

parser = argparse.ArgumentParser(description="Stoke notebook flow: train, search, deploy, score")
parser.add_argument("--url", default=None)
parser.add_argument("--token", default=None)
parser.add_argument("--quick", action="store_true", help="fewer epochs and trials (for a smoke test)")
args, _ = parser.parse_known_args()  # parse_known_args: Jupyter passes its own flags

client = stoke.Client(args.url, args.token)
print(client, client.whoami())
EPOCHS, TRIALS = (3, 3) if args.quick else (10, 8)


def note(step, err):
    print(f"NOTE: {step} skipped - {err}")


# %% [markdown]
# ## 1. The code: the digits data, the model and a training script that reports metrics
# The script reads its hyperparameters with `stoke.hparams()` and reports validation accuracy per
# epoch with `stoke.report()`; the trained TorchScript model goes to `$RESULT_DIR/model.pt`.

# %%
TRAIN_SCRIPT = textwrap.dedent('''
    import os
    import numpy as np
    import torch
    import torch.nn.functional as F
    import stoke
    from model import DigitsNet

    hp = stoke.hparams(lr=0.003, epochs=8, batch=64, seed=0)
    torch.manual_seed(hp["seed"])
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    tr, va = np.load("train.npz"), np.load("val.npz")
    x, y = torch.from_numpy(tr["x"]), torch.from_numpy(tr["y"])
    xv, yv = torch.from_numpy(va["x"]), torch.from_numpy(va["y"])
    model = DigitsNet()
    opt = torch.optim.Adam(model.parameters(), lr=hp["lr"])
    for epoch in range(1, hp["epochs"] + 1):
        model.train()
        perm = torch.randperm(len(x))
        total = 0.0
        for i in range(0, len(x), hp["batch"]):
            idx = perm[i:i + hp["batch"]]
            loss = F.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        model.eval()
        with torch.no_grad():
            logits = model(xv)
            val_loss = F.cross_entropy(logits, yv).item()
            accuracy = (logits.argmax(1) == yv).float().mean().item()
        stoke.report(epoch, loss=total / len(x), val_loss=val_loss, accuracy=accuracy)
        print(f"epoch {epoch}: loss {total / len(x):.4f} val_loss {val_loss:.4f} accuracy {accuracy:.4f}",
              flush=True)
    torch.jit.script(model).save(os.path.join(os.environ.get("RESULT_DIR", "."), "model.pt"))
''')

code = tempfile.mkdtemp(prefix="stoke-digits-")
digits = os.path.join(HERE, "digits")
shutil.copy(os.path.join(digits, "model.py"), code)
with open(os.path.join(code, "train.py"), "w") as f:
    f.write(TRAIN_SCRIPT)
# The jobs import `stoke` from their working directory: ship the client with the code.
shutil.copytree(os.path.dirname(stoke.__file__), os.path.join(code, "stoke"),
                ignore=shutil.ignore_patterns("__pycache__"))
sys.path.insert(0, digits)
import make_data  # noqa: E402  (examples/digits/make_data.py)

sys.argv, saved_argv = ["make_data.py", "--out", code], sys.argv
make_data.main()
sys.argv = saved_argv
print("code directory:", sorted(os.listdir(code)))

# %% [markdown]
# ## 2. Train once
# Elastic training (`client.train`): Stoke's engine trains the TorchScript model on 1..2 workers (it
# grows into idle slots and gives them back to higher-priority work without stopping). A server built
# without libtorch cannot; the same model then trains as a plain command job.

# %%
train_job = None
try:
    torch_model = os.path.join(code, "model.pt")
    os.system(f"cd {code} && {sys.executable} model.py --out model.pt >/dev/null")
    train_job = client.train(torch_model, os.path.join(code, "train.npz"), val=os.path.join(code, "val.npz"),
                             workers=(1, 2), global_batch=64, epochs=EPOCHS, optimizer="adam", lr=0.003,
                             name="digits-elastic")
except (stoke.NotSupportedByServer, stoke.FailedPrecondition) as e:
    note("elastic training", e)
if train_job is None:
    train_job = client.submit(["/usr/bin/python3", "train.py"], code_dir=code, name="digits-train", cpus=2,
                              hparams={"epochs": EPOCHS, "lr": 0.003}, exclude=["model.pt", "__pycache__"])
train_job.follow()
print(train_job, train_job.reason)
curves = train_job.metrics()
print({name: [round(v, 4) for _, v in pts] for name, pts in curves.items()})

# %% [markdown]
# ## 3. Search hyperparameters (ASHA: bad trials stop early, good ones get more epochs)

# %%
best_job_id = train_job.id
search = {
    "name": "digits-asha",
    "objective": {"metric": "accuracy", "direction": "maximize"},
    "space": {"lr": {"type": "float", "min": 0.0003, "max": 0.03, "log": True},
              "batch": {"type": "categorical", "choices": [32, 64, 128]},
              "epochs": {"type": "fixed", "value": EPOCHS}},  # ASHA hands out 1..EPOCHS as the budget
    "algorithm": {"name": "asha", "resource": "epochs", "min_resource": 1, "max_resource": EPOCHS,
                  "reduction_factor": 3},
    "budget": {"max_trials": TRIALS, "max_parallel": 2},
    "seed": 42,
    "trial": {"argv": ["/usr/bin/python3", "train.py"], "resources": {"cpus": 1}},
}
try:
    exp = client.create_experiment(search, code_dir=code, exclude=["model.pt", "__pycache__"])
    exp.wait()
    best = exp.best()
    print("best trial:", best)
    for t in exp.trials():
        print(f"  trial {t['id']}: {t['state']:9} value {t.get('value')} params {t['params']}")
    best_job_id = best["job"]
except stoke.NotSupportedByServer as e:
    note("hyperparameter search", e)

# %% [markdown]
# ## 4. Deploy the best model and score it over REST

# %%
import numpy as np  # noqa: E402

val = np.load(os.path.join(code, "val.npz"))
batch, labels = val["x"][:64], val["y"][:64]
best_job = client.job(best_job_id)
try:
    deployment = client.deploy(best_job, name="digits", replicas=1)
    scores = np.array(deployment.predict(batch))
    print("deployment:", deployment)
except stoke.NotSupportedByServer as e:
    note("deployment", e)
    import torch  # noqa: E402

    result_dir = best_job.download_result(os.path.join(code, f"result-{best_job.id}"))
    model = torch.jit.load(os.path.join(result_dir, "model.pt"))
    with torch.no_grad():
        scores = model(torch.from_numpy(batch)).numpy()
    print("scored locally with the downloaded model instead")
accuracy = float((scores.argmax(1) == labels).mean())
print(f"accuracy of job {best_job.id}'s model on {len(labels)} held-out digits: {accuracy:.3f}")
shutil.rmtree(code, ignore_errors=True)

"""A tiny training job for the quickstart: fits y = 3x + 2 by SGD in pure Python.

It shows the job contract: hyperparameters from $STOKE_HPARAMS, metrics POSTed to $STOKE_API with
the job's own $STOKE_TOKEN, and outputs written to $RESULT_DIR.
"""
import json
import os
import random
import sys
import urllib.request


def report(step, **values):
    api, token, job = os.environ.get("STOKE_API"), os.environ.get("STOKE_TOKEN"), os.environ.get("STOKE_JOB_ID")
    if not api:
        return
    body = json.dumps({"metrics": [{"step": step, "values": values}]}).encode()
    req = urllib.request.Request(f"{api}/jobs/{job}/metrics", data=body, method="POST",
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=10).read()


def main():
    hparams = {}
    if os.environ.get("STOKE_HPARAMS"):
        with open(os.environ["STOKE_HPARAMS"]) as f:
            hparams = json.load(f)
    lr = float(hparams.get("lr", 0.05))
    steps = int(hparams.get("steps", 200))
    rng = random.Random(0)
    data = [(x, 3 * x + 2 + rng.gauss(0, 0.1)) for x in (rng.uniform(-1, 1) for _ in range(256))]
    w, b = 0.0, 0.0
    for step in range(1, steps + 1):
        x, y = data[step % len(data)]
        err = w * x + b - y
        w -= lr * err * x
        b -= lr * err
        if step % 20 == 0:
            loss = sum((w * x + b - y) ** 2 for x, y in data) / len(data)
            print(f"step {step}: loss {loss:.5f} w {w:.3f} b {b:.3f}", flush=True)
            report(step, loss=loss, w=w, b=b)
    result_dir = os.environ.get("RESULT_DIR", ".")
    with open(os.path.join(result_dir, "model.json"), "w") as f:
        json.dump({"w": w, "b": b}, f)
    print(f"done: w={w:.3f} b={b:.3f} (true 3, 2)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

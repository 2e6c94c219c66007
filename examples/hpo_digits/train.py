"""One HPO trial: trains a small MLP on scikit-learn's bundled digits with PyTorch.

Hyperparameters come from config.json in the working directory (the WMLA convention; $STOKE_HPARAMS
holds the same). After every epoch it reports validation accuracy and loss to the Stoke server with
step = epoch, so ASHA can stop it early. Uses Debian's python3-torch and python3-sklearn.
"""
import json
import os
import sys
import urllib.request

import torch
from sklearn.datasets import load_digits


def report(step, **values):
    api, token, job = os.environ.get("STOKE_API"), os.environ.get("STOKE_TOKEN"), os.environ.get("STOKE_JOB_ID")
    if not api:
        print(f"step {step}: {values}")
        return
    body = json.dumps({"metrics": [{"step": step, "values": values}]}).encode()
    req = urllib.request.Request(f"{api}/jobs/{job}/metrics", data=body, method="POST",
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=10).read()


def main():
    with open("config.json") as f:
        hp = json.load(f)
    lr = float(hp.get("lr", 0.01))
    hidden = int(hp.get("hidden", 64))
    epochs = int(hp.get("epochs", 10))
    optimizer_name = str(hp.get("optimizer", "adam"))
    torch.manual_seed(0)
    torch.set_num_threads(1)

    digits = load_digits()
    x = torch.tensor(digits.data, dtype=torch.float32) / 16.0
    y = torch.tensor(digits.target, dtype=torch.int64)
    perm = torch.randperm(len(x), generator=torch.Generator().manual_seed(42))
    x, y = x[perm], y[perm]
    n_val = len(x) // 5
    x_val, y_val, x_train, y_train = x[:n_val], y[:n_val], x[n_val:], y[n_val:]

    model = torch.nn.Sequential(torch.nn.Linear(64, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 10))
    if optimizer_name == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    else:
        opt = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    # digits is tiny: one "epoch" here is three passes over it, so that an epoch lasts long enough
    # (a few hundred ms) for early stopping to act between reports, as it would on real data.
    passes = int(hp.get("passes_per_epoch", 3))
    for epoch in range(1, epochs + 1):
        model.train()
        for _ in range(passes):
            order = torch.randperm(len(x_train))
            for i in range(0, len(order), 16):
                idx = order[i:i + 16]
                opt.zero_grad()
                loss = loss_fn(model(x_train[idx]), y_train[idx])
                loss.backward()
                opt.step()
        model.eval()
        with torch.no_grad():
            logits = model(x_val)
            val_loss = float(loss_fn(logits, y_val))
            accuracy = float((logits.argmax(1) == y_val).float().mean())
        print(f"epoch {epoch}: val_loss {val_loss:.4f} accuracy {accuracy:.4f}", flush=True)
        report(epoch, accuracy=accuracy, val_loss=val_loss)
    result_dir = os.environ.get("RESULT_DIR", ".")
    torch.save(model.state_dict(), os.path.join(result_dir, "model.pt"))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""TorchScript models and HTTP helpers for the deployment tests (Debian's python3-torch)."""

import json
import mimetypes
import uuid

import torch


def make_mlp(path, seed=0, features=64, classes=10):
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(features, 32), torch.nn.ReLU(), torch.nn.Linear(32, classes))
    model.eval()
    torch.jit.script(model).save(path)
    return path, model


def reference(model, rows):
    with torch.no_grad():
        return model(torch.tensor(rows, dtype=torch.float32)).tolist()


def multipart(fields):
    """fields: name -> (filename or None, bytes, content type). Returns (body, content type)."""
    boundary = uuid.uuid4().hex
    out = b""
    for name, (filename, data, ctype) in fields.items():
        disp = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        out += f"--{boundary}\r\nContent-Disposition: {disp}\r\nContent-Type: {ctype}\r\n\r\n".encode() + data + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return out, f"multipart/form-data; boundary={boundary}"


def deploy_file(client, spec, model_path, method="POST", path="deployments"):
    with open(model_path, "rb") as f:
        body, ctype = multipart({"spec": (None, json.dumps(spec).encode(), "application/json"),
                                 "model": ("model.pt", f.read(), "application/octet-stream")})
    return client.request(method, path, raw=body, content_type=ctype)

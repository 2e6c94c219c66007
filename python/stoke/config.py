"""Where the client talks to and with which token, resolved as the ``stoke`` CLI does.

Order, for the URL and the token each on its own: explicit argument > environment (``STOKE_URL``,
``STOKE_TOKEN``) > the CLI's config file (``$XDG_CONFIG_HOME/stoke/config.json``, else
``~/.config/stoke/config.json``, written by ``stoke login`` as ``{"url": ..., "token": ...}``) > default
``http://127.0.0.1:8080`` (no token).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Mapping, Optional

from .errors import InvalidArgument

DEFAULT_URL = "http://127.0.0.1:8080"


@dataclass(frozen=True)
class ClientConfig:
    url: str  # scheme://host[:port][/prefix], without /api/v1
    token: str  # "" when none is configured


def default_config_path(env: Mapping[str, str]) -> str:
    xdg = env.get("XDG_CONFIG_HOME")
    if xdg:
        return os.path.join(xdg, "stoke", "config.json")
    return os.path.join(env.get("HOME") or os.path.expanduser("~"), ".config", "stoke", "config.json")


def load_config_file(path: str) -> Optional[ClientConfig]:
    """Reads ``{"url": ..., "token": ...}``; None when the file does not exist."""
    if not os.path.exists(path):
        return None
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        raise InvalidArgument(f"cannot read the config file {path}: {e}", field="config") from None
    if not isinstance(doc, dict):
        raise InvalidArgument(f"config file {path} is not a JSON object", field="config")
    url, token = doc.get("url", ""), doc.get("token", "")
    if not isinstance(url, str) or not isinstance(token, str):
        raise InvalidArgument(f"config file {path}: url and token must be strings", field="config")
    return ClientConfig(url=url, token=token)


def normalize_url(url: str) -> str:
    """Checks ``http(s)://host[:port][/prefix]`` and drops a trailing ``/`` and ``/api/v1``."""
    u = url.strip()
    if not (u.startswith("http://") or u.startswith("https://")):
        raise InvalidArgument(f'server URL "{u}" must start with http:// or https://', field="url")
    u = u.rstrip("/")
    if u.endswith("/api/v1"):
        u = u[: -len("/api/v1")].rstrip("/")
    host = u.split("://", 1)[1]
    if not host or host[0] in "/:":
        raise InvalidArgument(f'server URL "{u}" has no host', field="url")
    return u


def resolve(url: Optional[str] = None, token: Optional[str] = None,
            env: Optional[Mapping[str, str]] = None, config_path: Optional[str] = None) -> ClientConfig:
    env = os.environ if env is None else env
    path = config_path if config_path is not None else default_config_path(env)
    file_cfg = load_config_file(path) if path else None
    chosen_url = url or env.get("STOKE_URL") or (file_cfg.url if file_cfg and file_cfg.url else "") or DEFAULT_URL
    if token:
        chosen_token = token.strip()
    elif env.get("STOKE_TOKEN"):
        chosen_token = env["STOKE_TOKEN"].strip()
    else:
        chosen_token = file_cfg.token if file_cfg else ""
    return ClientConfig(url=normalize_url(chosen_url), token=chosen_token)

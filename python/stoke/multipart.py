"""multipart/form-data bodies, built by hand (the standard library has no encoder)."""

from __future__ import annotations

import uuid
from typing import Optional, Sequence, Tuple

# (name, content, filename or None, content type)
Part = Tuple[str, bytes, Optional[str], str]


def encode(parts: Sequence[Part]) -> Tuple[bytes, str]:
    """Returns (body, Content-Type header value)."""
    boundary = "stoke-" + uuid.uuid4().hex
    out = bytearray()
    for name, content, filename, content_type in parts:
        disposition = f'form-data; name="{name}"'
        if filename:
            disposition += f'; filename="{filename}"'
        out += f"--{boundary}\r\nContent-Disposition: {disposition}\r\nContent-Type: {content_type}\r\n\r\n".encode()
        out += content
        out += b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"

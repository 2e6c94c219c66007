"""Packing a local code directory for upload, and unpacking a downloaded result safely."""

from __future__ import annotations

import fnmatch
import io
import os
import posixpath
import tarfile
from typing import Iterable, List, Optional, Sequence, Union

from .errors import InvalidArgument

# Left out of code uploads unless the caller passes its own list.
DEFAULT_EXCLUDES = (".git", "__pycache__", "*.pyc", ".ipynb_checkpoints", ".venv", "venv", ".mypy_cache",
                    ".pytest_cache")


def pack_directory(path: str, exclude: Optional[Sequence[str]] = None) -> bytes:
    """Returns a tar.gz (in memory) of the directory's contents, with paths relative to it.

    ``exclude`` holds shell patterns matched against each name (not the whole path); symbolic links are
    stored as links only when they point inside the directory, else skipped (the server rejects them).
    """
    root = os.path.abspath(path)
    if not os.path.isdir(root):
        raise InvalidArgument(f"code directory {path} does not exist or is not a directory", field="code")
    patterns = tuple(DEFAULT_EXCLUDES if exclude is None else exclude)

    def skipped(name: str) -> bool:
        return any(fnmatch.fnmatch(name, p) for p in patterns)

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if not skipped(d))
            rel_dir = os.path.relpath(dirpath, root)
            for name in sorted(dirnames) + sorted(f for f in filenames if not skipped(f)):
                full = os.path.join(dirpath, name)
                arcname = name if rel_dir == "." else posixpath.join(rel_dir.replace(os.sep, "/"), name)
                if os.path.islink(full):
                    target = os.path.realpath(full)
                    if os.path.commonpath([root, target]) != root:
                        continue
                elif not (os.path.isfile(full) or os.path.isdir(full)):
                    continue  # sockets, fifos, devices
                info = tar.gettarinfo(full, arcname=arcname)
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                if info.isfile():
                    with open(full, "rb") as f:
                        tar.addfile(info, f)
                else:
                    tar.addfile(info)
    return buf.getvalue()


def pack_files(files: Iterable[tuple]) -> bytes:
    """tar.gz of ``(local_path, name_in_archive)`` pairs (used to upload a model and its data)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
        for local, arcname in files:
            if not os.path.isfile(local):
                raise InvalidArgument(f"{local} is not a file", field=arcname)
            tar.add(local, arcname=arcname, recursive=False)
    return buf.getvalue()


def _check_member(member: tarfile.TarInfo, dest: str) -> None:
    name = member.name
    if name.startswith("/") or os.path.isabs(name):
        raise InvalidArgument(f"archive entry {name!r} has an absolute path", field="result")
    target = os.path.realpath(os.path.join(dest, name))
    if os.path.commonpath([dest, target]) != dest:
        raise InvalidArgument(f"archive entry {name!r} points outside the destination", field="result")
    if not (member.isfile() or member.isdir()):
        raise InvalidArgument(f"archive entry {name!r} is not a regular file or directory", field="result")


def extract_tar(source: Union[bytes, str], dest: str) -> List[str]:
    """Extracts a tar(.gz) into ``dest`` after checking every entry: no absolute paths, no ``..``, only
    regular files and directories (links and devices are refused). Nothing is written when a check fails.
    ``source`` is the archive's bytes or its path. Returns the extracted names."""
    dest = os.path.realpath(dest)
    os.makedirs(dest, exist_ok=True)
    opened = (tarfile.open(fileobj=io.BytesIO(source), mode="r:*") if isinstance(source, bytes)
              else tarfile.open(source, mode="r:*"))
    with opened as tar:
        members = tar.getmembers()
        for m in members:
            _check_member(m, dest)
        for m in members:
            # Files are written with the user's umask and no ownership/time games.
            m.mode = (m.mode | 0o600) & 0o755 if m.isfile() else 0o755
            if hasattr(tarfile, "data_filter"):
                tar.extract(m, dest, filter="data")
            else:
                tar.extract(m, dest, set_attrs=False)
                if m.isfile():
                    os.chmod(os.path.join(dest, m.name), m.mode)
        return [m.name for m in members]

"""Cache files: written atomically behind a header and a checksum, read back only when whole.

A write goes to a temporary file that is then renamed. A file starts with its format's
header (``index.artifacts``: what it holds, in which version), then the CRC-32 of its
payload. A file cut short by a kill or a full disk, damaged otherwise, or written in
another format reads as missing, and the caller rebuilds it: caching is an optimisation
only, and a write that fails is no error either. ``digest`` makes the keys the files are
named by. ``building`` keeps two processes from making the same file at once (the bot and
its reindex child, or parallel test workers, on a machine whose cache is still empty).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import tempfile
import zlib
from collections.abc import Iterator
from pathlib import Path

from index.artifacts import HEADER_SIZE, ArtifactFormat, ArtifactFormatError


def write_atomic(path: Path, payload: bytes, form: ArtifactFormat) -> bool:
    """Write ``payload`` in ``form`` (with a checksum) to ``path`` atomically; False if
    that failed."""
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            fh.write(form.wrap(zlib.crc32(payload).to_bytes(4, "big")))
            fh.write(payload)
        os.replace(tmp, path)
        return True
    except OSError:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        return False  # caching is an optimisation only


def read_checked(path: Path, form: ArtifactFormat) -> memoryview | None:
    """The payload of a file ``write_atomic`` wrote in ``form``; None if it is missing,
    damaged, or in another format. A view, not a copy (the dictionary store is 80 MB)."""
    try:
        blob = path.read_bytes()
    except OSError:
        return None
    try:
        form.unwrap(blob[:HEADER_SIZE])
    except ArtifactFormatError:
        return None
    view = memoryview(blob)
    checksum, payload = view[HEADER_SIZE : HEADER_SIZE + 4], view[HEADER_SIZE + 4 :]
    if len(checksum) < 4 or checksum != zlib.crc32(payload).to_bytes(4, "big"):
        return None
    with contextlib.suppress(OSError):
        os.utime(path)  # recently used: pruned last
    return payload


@contextlib.contextmanager
def building(path: Path) -> Iterator[None]:
    """Hold the lock on making ``path``: one process makes a cache file while the others
    wait, then read what it wrote (check again inside). The lock is an advisory ``flock``
    on one file per kind of cache (``lexicon.lock`` for ``lexicon-<key>.pickle``, so that
    lock files do not pile up with the keys), released by the kernel when its holder dies.
    Where it cannot be taken (a read-only directory), each process makes the file itself."""
    lock = path.with_name(path.name.split("-", 1)[0].split(".", 1)[0] + ".lock")
    fd: int | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        with contextlib.suppress(OSError):  # there, but not ours to write: flock reads do
            fd = os.open(lock, os.O_RDONLY)
    try:
        if fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        if fd is not None:
            os.close(fd)  # closing releases the lock


def prune(directory: Path, pattern: str, keep: int) -> None:
    """Remove all but the ``keep`` most recently used files matching ``pattern``."""
    with contextlib.suppress(OSError):
        files = sorted(directory.glob(pattern), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in files[keep:]:
            old.unlink(missing_ok=True)


def digest(*parts: str | bytes) -> str:
    """A short hash of ``parts`` (each length-prefixed, so no two sequences collide)."""
    h = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)
    return h.hexdigest()[:32]

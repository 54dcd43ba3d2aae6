"""Where artifacts live (backups today; build logs and images' context later): a directory by default, an
S3 bucket when configured. Signed, expiring links to them are in `links.py`.

Writers stream: bytes are hashed (SHA-256) and counted as they pass, and nothing is visible under
the artifact's name until the writer is committed — a failed or interrupted write leaves no file
that could pass for a finished artifact.
"""

import contextlib
import hashlib
import os
import secrets
import shutil
import tempfile
from pathlib import Path
from typing import BinaryIO

from django.conf import settings

from .jobs import check_deadline, scratch_directory

CHUNK = 1024 * 1024


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
        # Each writer its own partial file: two writers of one name never share bytes.
        self.partial = path.with_name(f"{path.name}.partial-{secrets.token_hex(6)}")
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

    def delete_folder(self, folder: str) -> None:
        """Every artifact under `folder/` (an environment's)."""
        path = self._path(f"{folder}/x").parent
        shutil.rmtree(path, ignore_errors=True)

    def delete(self, name: str) -> None:
        path = self._path(name)
        path.unlink(missing_ok=True)
        for partial in path.parent.glob(f"{path.name}.partial-*"):
            partial.unlink(missing_ok=True)


class S3ArtifactWriter(ArtifactWriter):
    """A multipart upload; the object appears only when the upload is completed in `commit()`."""

    PART_SIZE = 16 * 1024 * 1024

    def __init__(self, client, bucket: str, key: str):
        super().__init__()
        self.client, self.bucket, self.key = client, bucket, key
        self.buffer = bytearray()
        self.parts: list[dict] = []
        self.upload_id = None

    def _write(self, data: bytes) -> None:
        self.buffer += data
        if len(self.buffer) >= self.PART_SIZE:
            self._send_part()

    def _send_part(self) -> None:
        if self.upload_id is None:
            self.upload_id = self.client.create_multipart_upload(Bucket=self.bucket, Key=self.key)["UploadId"]
        number = len(self.parts) + 1
        response = self.client.upload_part(
            Bucket=self.bucket, Key=self.key, UploadId=self.upload_id, PartNumber=number, Body=bytes(self.buffer)
        )
        self.parts.append({"PartNumber": number, "ETag": response["ETag"]})
        self.buffer.clear()

    def commit(self) -> None:
        if self.upload_id is None:  # small enough for one request
            self.client.put_object(Bucket=self.bucket, Key=self.key, Body=bytes(self.buffer))
            return
        if self.buffer:
            self._send_part()
        self.client.complete_multipart_upload(
            Bucket=self.bucket, Key=self.key, UploadId=self.upload_id, MultipartUpload={"Parts": self.parts}
        )

    def abort(self) -> None:
        self.buffer.clear()
        if self.upload_id is not None:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=self.upload_id)


class S3ArtifactStore:
    def __init__(self, client, bucket: str, prefix: str):
        self.client, self.bucket, self.prefix = client, bucket, prefix

    def _key(self, name: str) -> str:
        if name.startswith("/") or ".." in name.split("/"):
            raise ArtifactError(f"Invalid artifact name {name!r}.")
        return f"{self.prefix}backups/{name}"

    def writer(self, name: str) -> ArtifactWriter:
        return S3ArtifactWriter(self.client, self.bucket, self._key(name))

    def open(self, name: str, offset: int = 0) -> BinaryIO:
        from botocore.exceptions import ClientError

        extra = {"Range": f"bytes={offset}-"} if offset else {}
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self._key(name), **extra)
        except ClientError as error:
            raise ArtifactError(f"The artifact cannot be read from S3: {error}") from None
        return response["Body"]

    def exists(self, name: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(name))
        except ClientError:
            return False
        return True

    def delete(self, name: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(name))

    def delete_folder(self, folder: str) -> None:
        prefix = self._key(f"{folder}/x")[:-1]
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if keys:
                self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": keys})


@contextlib.contextmanager
def local_copy(store, name: str, sha256: str):
    """The artifact as a local file at its start, checked against its recorded SHA-256 first: programs
    restore from a complete file that is exactly what was backed up, never from a stream that could be
    cut halfway. A local artifact is read in place; one in S3 is downloaded to the scratch directory."""
    with contextlib.ExitStack() as stack:
        if isinstance(store, FileArtifactStore):
            handle = stack.enter_context(store.open(name))
        else:
            handle = stack.enter_context(tempfile.TemporaryFile(dir=scratch_directory()))
            with contextlib.closing(store.open(name)) as remote:
                while chunk := remote.read(CHUNK):
                    check_deadline()
                    handle.write(chunk)
            handle.seek(0)
        digest = hashlib.sha256()
        while chunk := handle.read(CHUNK):
            check_deadline()
            digest.update(chunk)
        if digest.hexdigest() != sha256:
            raise ArtifactError("The artifact in storage does not match its recorded checksum; it was not used.")
        handle.seek(0)
        yield handle


def artifact_store():
    if settings.APPCONTROL_BACKUP_STORAGE == "s3":
        from appcontrol.core.s3 import s3_client

        return S3ArtifactStore(s3_client(), settings.APPCONTROL_S3_BUCKET, settings.APPCONTROL_S3_PREFIX)
    return FileArtifactStore(settings.APPCONTROL_BACKUP_DIR)

import os
import shutil
import tarfile
import tempfile
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from appcontrol.core.ids import encode_id

from .base import Engine, EngineError, variable_name

GZIP_MAGIC = b"\x1f\x8b"


class FilesystemEngine(Engine):
    """Media storage in a local directory; artifacts are gzip-compressed tar archives."""

    name = "filesystem"
    artifact_extension = "tar.gz"

    def _path(self, instance) -> Path:
        return Path(instance.resource["path"])

    def provision(self, instance) -> dict[str, str]:
        path = settings.APPCONTROL_SERVICES_DIR / "storage" / encode_id(instance.pk)
        path.mkdir(parents=True, exist_ok=True)
        instance.resource = {"path": str(path)}
        return {variable_name(instance.prefix, "STORAGE"): f"file://{path}"}

    def deprovision(self, instance) -> None:
        if "path" in instance.resource:
            shutil.rmtree(self._path(instance), ignore_errors=True)

    def dump(self, instance, out) -> datetime:
        root = self._path(instance)
        if not root.is_dir():
            raise EngineError(f"The storage directory {root.name} is missing.")
        taken_at = timezone.now()
        with tarfile.open(fileobj=out, mode="w|gz") as archive:
            for directory, subdirectories, files in os.walk(root):
                subdirectories.sort()
                for name in sorted(files):
                    full = Path(directory) / name
                    archive.add(full, arcname=str(full.relative_to(root)), recursive=False)
        return taken_at

    def restore(self, instance, source) -> None:
        root = self._path(instance)
        staged = Path(tempfile.mkdtemp(dir=root.parent, prefix=f".{root.name}.restore-"))
        try:
            with tarfile.open(fileobj=source, mode="r|*") as archive:
                # The "data" filter refuses absolute paths, links out of the tree and devices.
                archive.extractall(staged, filter="data")
        except (tarfile.TarError, OSError, EOFError) as error:
            shutil.rmtree(staged, ignore_errors=True)
            raise EngineError(f"The storage archive cannot be restored: {error}") from None
        # Swap whole directories, so the storage is either the old tree or the new one.
        retired = root.with_name(f".{root.name}.retired")
        shutil.rmtree(retired, ignore_errors=True)
        root.rename(retired)
        staged.rename(root)
        shutil.rmtree(retired, ignore_errors=True)

    def check_artifact(self, head: bytes) -> None:
        check_tar_head(head)

    def verify_artifact(self, source) -> None:
        verify_tar(source)


def verify_tar(source) -> None:
    """Walk the whole archive: a truncated or corrupt one fails here, not halfway through a restore."""
    try:
        with tarfile.open(fileobj=source, mode="r|*") as archive:
            for member in archive:
                if member.isfile():
                    handle = archive.extractfile(member)
                    while handle.read(1024 * 1024):
                        pass
    except (tarfile.TarError, EOFError, OSError) as error:
        raise EngineError(f"This is not a readable tar archive: {error}") from None


def check_tar_head(head: bytes) -> None:
    is_gzip = head.startswith(GZIP_MAGIC)
    is_tar = len(head) >= 262 and head[257:262] == b"ustar"
    if not (is_gzip or is_tar):
        raise EngineError("This is not a tar archive (plain or gzip-compressed).")

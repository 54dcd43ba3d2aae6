import ctypes
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from appcontrol.core.ids import encode_id
from appcontrol.core.jobs import check_deadline, time_left
from appcontrol.core.sandbox import Child, Sandbox, bubblewrap, child_environment, run_child

from . import media_archive
from .base import Engine, EngineError, variable_name

GZIP_MAGIC = b"\x1f\x8b"
ARCHIVE_TOOL_MEMORY = 2 * 1024**3
RENAME_EXCHANGE = 2
AT_FDCWD = -100


def media_limits() -> media_archive.Limits:
    return media_archive.Limits(settings.APPCONTROL_MEDIA_MAX_FILES, settings.APPCONTROL_MEDIA_MAX_BYTES)


def _archive_tool(command: str, *arguments: str) -> list[str]:
    """`media_archive.py` run by this Python with no site-packages and no environment (`-I -S`), its memory
    capped (a hostile archive must not exhaust the host's)."""
    prlimit = shutil.which("prlimit")
    cap = [prlimit, f"--as={ARCHIVE_TOOL_MEMORY}", "--"] if prlimit else []
    return [*cap, sys._base_executable, "-I", "-S", media_archive.__file__, command, *arguments]


def _archive_sandbox(read_only=(), writable=()) -> Sandbox:
    return Sandbox(read_only=(sys.base_prefix, media_archive.__file__, *read_only), writable=tuple(writable))


def _refusal(result, what: str) -> EngineError:
    if result.timed_out:
        return EngineError(f"{what} did not finish before the job's time limit and was stopped.")
    return EngineError(f"The storage archive cannot be restored: {result.stderr or f'exit code {result.returncode}'}")


def check_media_archive(source) -> None:
    """Read a whole archive as a restore would (in the sandbox where there is one), writing nothing."""
    if bubblewrap() is None:
        try:
            media_archive.check(source, media_limits(), check=check_deadline)
        except media_archive.ArchiveError as error:
            raise EngineError(f"The storage archive cannot be restored: {error}") from None
        return
    limits = media_limits()
    result = run_child(
        _archive_tool("check", str(limits.max_files), str(limits.max_bytes)),
        sandbox=_archive_sandbox(), env=child_environment(), timeout=time_left(), stdin=source,
    )  # fmt: skip
    if not result.ok:
        raise _refusal(result, "Checking the archive")


def _exchange(first: Path, second: Path) -> None:
    """Swap two directories in one step where the kernel can (renameat2), else in two renames."""
    if not second.exists():
        first.rename(second)
        return
    libc = ctypes.CDLL(None, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is not None:
        if renameat2(AT_FDCWD, os.fsencode(first), AT_FDCWD, os.fsencode(second), RENAME_EXCHANGE) == 0:
            return
    retired = second.with_name(second.name + ".retired")
    shutil.rmtree(retired, ignore_errors=True)
    second.rename(retired)
    first.rename(second)
    retired.rename(first)


class FilesystemEngine(Engine):
    """Media storage in a local directory; artifacts are gzip-compressed tar archives.

    Archives are written and extracted by `media_archive.py` in the sandbox, which sees only the one
    directory concerned (and without bubblewrap, by the same code in the worker)."""

    name = "filesystem"
    artifact_extension = "tar.gz"

    def _path(self, instance) -> Path:
        return Path(instance.resource["path"])

    def provision(self, instance) -> dict[str, str]:
        path = settings.APPCONTROL_SERVICES_DIR / "storage" / encode_id(instance.pk)
        path.mkdir(parents=True, exist_ok=True)
        path.chmod(0o755)
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
        if bubblewrap() is None:
            media_archive.create(root, out)
            return taken_at
        sandbox = _archive_sandbox(read_only=[str(root)])
        argv = _archive_tool("create", str(root))
        with Child(argv, sandbox, child_environment(), time_left(), stdout=subprocess.PIPE) as child:
            while chunk := child.stdout_pipe.read(1024 * 1024):
                out.write(chunk)
            result = child.wait()
        if not result.ok:
            raise EngineError(f"The storage directory could not be archived: {result.stderr or result.returncode}")
        return taken_at

    def restore(self, instance, source) -> None:
        """Extract into a fresh directory beside the storage, then swap the two: the storage is the old tree
        or the new one, never a mix, and a refused archive leaves it untouched."""
        root = self._path(instance)
        self.discard_partial_restore(instance)
        staged = Path(tempfile.mkdtemp(dir=root.parent, prefix=_staging_prefix(root)))
        try:
            staged.chmod(root.stat().st_mode & 0o7777 if root.is_dir() else 0o755)
            self._extract(source, staged)
            _exchange(staged, root)
        finally:
            shutil.rmtree(staged, ignore_errors=True)

    def discard_partial_restore(self, instance) -> None:
        if "path" not in instance.resource:
            return
        root = self._path(instance)
        for leftover in root.parent.glob(f"{_staging_prefix(root)}*"):
            shutil.rmtree(leftover, ignore_errors=True)

    def _extract(self, source, staged: Path) -> None:
        if bubblewrap() is None:
            try:
                media_archive.extract(source, staged, media_limits(), check=check_deadline)
            except media_archive.ArchiveError as error:
                raise EngineError(f"The storage archive cannot be restored: {error}") from None
            except OSError as error:
                raise EngineError(f"The storage archive could not be written: {error}") from None
            return
        limits = media_limits()
        result = run_child(
            _archive_tool("extract", str(staged), str(limits.max_files), str(limits.max_bytes)),
            sandbox=_archive_sandbox(writable=[str(staged)]), env=child_environment(), timeout=time_left(),
            stdin=source,
        )  # fmt: skip
        if not result.ok:
            raise _refusal(result, "The restore")

    def check_artifact(self, head: bytes) -> None:
        check_tar_head(head)

    def verify_artifact(self, source) -> None:
        check_media_archive(source)


def _staging_prefix(root: Path) -> str:
    return f".{root.name}.restore-"


def check_tar_head(head: bytes) -> None:
    is_gzip = head.startswith(GZIP_MAGIC)
    is_tar = len(head) >= 262 and head[257:262] == b"ustar"
    if not (is_gzip or is_tar):
        raise EngineError("This is not a tar archive (plain or gzip-compressed).")

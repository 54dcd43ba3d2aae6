"""Media archives (tar, plain or gzip-compressed): written from a directory, checked, and extracted.

An uploaded archive is hostile, and `tarfile`'s own `filter="data"` is not enough on every Python we
run (CVE-2025-4517: a chain of symlinks longer than the path limit escaped it). So extraction trusts
no member type but regular files and directories, builds every path itself below a directory it holds
open (never following a link), bounds the number and size of members, writes sane modes, and refuses
an archive that ends without its end-of-archive marker (a tar cut at a block boundary reads as a
shorter valid one otherwise).

This module uses the standard library only: the worker runs this very file inside the sandbox,
`python -I -S media_archive.py extract|check|create …`, with nothing but the target directory bound.
"""

import contextlib
import gzip
import math
import os
import stat
import sys
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path

CHUNK = 1024 * 1024
GZIP_MAGIC = b"\x1f\x8b"
BLOCK = 512
# The end-of-archive marker and the record padding after it; anything longer is not padding.
MAX_TRAILER = 1024 * 1024
MAX_NAME_BYTES, MAX_COMPONENT_BYTES = 4096, 255
# Deeper trees than any media storage needs would defeat the recursive tools that walk and remove them.
MAX_DEPTH = 256
OPEN_DIRECTORY = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# A pax or GNU long-name header carries a name (at most 4096 bytes) and a few fields; few are over 1 KiB.
MAX_EXTENDED_HEADER, SMALL_EXTENDED_HEADER, MAX_LARGE_EXTENDED_HEADERS = 8192, 1024, 1000


class ArchiveError(Exception):
    """The archive cannot be restored; the message says why, naming the member at fault."""


@dataclass(frozen=True)
class Limits:
    max_files: int
    max_bytes: int


class _TailRecorder:
    """A read-only stream that counts what passes and keeps the last bytes, to check the archive's end."""

    def __init__(self, stream):
        self.stream = stream
        self.total = 0
        self.tail = bytearray()

    def read(self, size=-1) -> bytes:
        data = self.stream.read(size)
        self.total += len(data)
        self.tail += data
        if len(self.tail) > 2 * MAX_TRAILER:
            del self.tail[: len(self.tail) - MAX_TRAILER]
        return data

    def trailer_from(self, offset: int) -> bytes | None:
        """The bytes from `offset` to the end, or None when they are no longer held."""
        kept_from = self.total - len(self.tail)
        return bytes(self.tail[offset - kept_from :]) if offset >= kept_from else None


class _Peekable:
    def __init__(self, stream, head: bytes):
        self.stream, self.head = stream, head

    def read(self, size=-1) -> bytes:
        if self.head:
            data = self.head if size < 0 else self.head[:size]
            self.head = self.head[len(data) :]
            return data
        return self.stream.read(size)


class _CheckedTarInfo(tarfile.TarInfo):
    """Refuses an extended header (pax, GNU long name) that is negative or longer than any name needs, before
    tarfile reads it: tarfile holds such a header in memory whole, and Pythons before 3.12.6 parse big pax
    headers in quadratic time (CVE-2024-6232). This hooks tarfile's member processing (`_proc_member`)."""

    EXTENDED = (
        tarfile.GNUTYPE_LONGNAME,
        tarfile.GNUTYPE_LONGLINK,
        tarfile.XHDTYPE,
        tarfile.XGLTYPE,
        tarfile.SOLARIS_XHDTYPE,
    )

    def _proc_member(self, archive):
        if self.type in self.EXTENDED:
            if not 0 <= self.size <= MAX_EXTENDED_HEADER:
                raise ArchiveError(
                    f"The archive holds an extended header of {self.size} bytes (at most {MAX_EXTENDED_HEADER})."
                )
            if self.size > SMALL_EXTENDED_HEADER:
                archive.large_headers = getattr(archive, "large_headers", 0) + 1
                if archive.large_headers > MAX_LARGE_EXTENDED_HEADERS:
                    raise ArchiveError("The archive holds too many long extended headers.")
        return super()._proc_member(archive)


def safe_name(name: str) -> str:
    """The member's path relative to the target, normalised; refuse anything that could leave it."""
    if "\x00" in name or name.startswith("/"):
        raise ArchiveError(f"The archive holds an absolute or invalid path: {name!r}.")
    parts = [part for part in name.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise ArchiveError(f"The archive holds a path that leaves the directory: {name!r}.")
    if len(parts) > MAX_DEPTH:
        raise ArchiveError(f"The archive holds a path deeper than {MAX_DEPTH} directories: {name[:100]!r}….")
    normalised = "/".join(parts)
    encoded = os.fsencode(normalised)
    if len(encoded) > MAX_NAME_BYTES or any(len(os.fsencode(part)) > MAX_COMPONENT_BYTES for part in parts):
        raise ArchiveError(f"The archive holds a path that is too long: {name[:100]!r}….")
    return normalised


def _kind(member: tarfile.TarInfo) -> str:
    if member.issym():
        return "a symbolic link"
    if member.islnk():
        return "a hard link"
    if member.ischr() or member.isblk():
        return "a device"
    if member.isfifo():
        return "a named pipe"
    if member.issparse():
        return "a sparse file"
    return f"an entry of type {member.type!r}"


def _claim_name(name: str, is_directory: bool, kinds: dict[str, bool]) -> None:
    """Each path is one thing: a file appears once, and never where a file stands in its path."""
    if name in kinds and not (is_directory and kinds[name]):
        raise ArchiveError(f"The archive holds {name!r} twice (or as a file and a directory).")
    parent = name
    while "/" in parent:
        parent = parent.rpartition("/")[0]
        known = kinds.get(parent)
        if known is False:
            raise ArchiveError(f"The archive uses {parent!r} both as a file and as a directory.")
        if known:
            break  # its own parents are known to be directories too
        kinds[parent] = True  # created implicitly by extraction
    kinds[name] = is_directory


def members(source, limits: Limits, check=None):
    """Yield `(name, member, archive)` for each member of a tar stream, after checking it.

    Only regular files and directories pass; names are normalised and confined; the member count and
    the total size are bounded; the stream must end with the end-of-archive marker. A regular file's
    bytes are read with `archive.extractfile(member)` before the next member is asked for. `check()`, when
    given, is called before each member (the worker's deadline).
    """
    head = source.read(2)
    stream = _Peekable(source, head)
    if head == GZIP_MAGIC:
        stream = gzip.GzipFile(fileobj=stream, mode="rb")
    recorder = _TailRecorder(stream)
    files = total_bytes = 0
    kinds: dict[str, bool] = {"": True}  # name -> is a directory
    try:
        with tarfile.open(fileobj=recorder, mode="r|", tarinfo=_CheckedTarInfo) as archive:
            for member in archive:
                files += 1
                if files > limits.max_files:
                    raise ArchiveError(f"The archive holds more than {limits.max_files} entries.")
                if not (member.isdir() or (member.isreg() and not member.issparse())):
                    raise ArchiveError(
                        f"The archive holds {_kind(member)} ({member.name!r}); "
                        "only regular files and directories are restored."
                    )
                if check is not None:
                    check()
                name = safe_name(member.name)
                _claim_name(name, member.isdir(), kinds)
                if member.size < 0:  # a pax header can say so (CVE-2025-8194)
                    raise ArchiveError(f"The archive gives {member.name!r} a negative size.")
                if member.isreg():
                    total_bytes += member.size
                    if total_bytes > limits.max_bytes:
                        raise ArchiveError(f"The archive's files add up to more than {limits.max_bytes} bytes.")
                if name:
                    yield name, member, archive
            end = archive.offset
            while recorder.read(CHUNK):
                pass  # to the end of the stream: gzip checks its length and CRC there
    except (tarfile.TarError, EOFError, OSError, gzip.BadGzipFile, zlib.error) as error:
        raise ArchiveError(f"This is not a complete, readable tar archive: {error}") from None
    trailer = recorder.trailer_from(end)
    if trailer is None or len(trailer) < BLOCK or trailer.count(0) != len(trailer):
        raise ArchiveError(
            "The archive ends without its end-of-archive marker: it was cut short (or has data after its end)."
        )


def contents(archive: tarfile.TarFile, member: tarfile.TarInfo):
    """The bytes of a regular file member, in chunks; a member cut short is the archive's fault."""
    handle = archive.extractfile(member)
    try:
        while chunk := handle.read(CHUNK):
            yield chunk
    except (tarfile.TarError, EOFError, gzip.BadGzipFile, zlib.error) as error:
        raise ArchiveError(f"This is not a complete, readable tar archive: {error} (in {member.name!r})") from None


def check(source, limits: Limits, check=None) -> None:
    """Read a whole archive as a restore would, writing nothing."""
    for _name, member, archive in members(source, limits, check):
        if member.isreg():
            for _chunk in contents(archive, member):
                pass


class _Directories:
    """Directory descriptors below the target, each opened without following links."""

    def __init__(self, root: Path):
        self.root_fd = os.open(root, OPEN_DIRECTORY)
        self.open: dict[str, int] = {"": self.root_fd}

    def fd(self, relative: str) -> int:
        """The directory `relative`, created (0755) where missing, each step below one held open."""
        if relative in self.open:
            return self.open[relative]
        parts = relative.split("/")
        depth = len(parts)
        while depth and "/".join(parts[:depth]) not in self.open:
            depth -= 1
        current = "/".join(parts[:depth])
        fd = self.open[current]
        for part in parts[depth:]:
            current = f"{current}/{part}" if current else part
            with contextlib.suppress(FileExistsError):
                os.mkdir(part, 0o755, dir_fd=fd)
            try:
                fd = os.open(part, OPEN_DIRECTORY, dir_fd=fd)
            except OSError as error:
                raise ArchiveError(f"The archive uses {current!r} both as a file and as a directory.") from error
            if len(self.open) > 256:  # a bounded cache: deep or wide trees must not exhaust descriptors
                self.close(keep_root=True)
            self.open[current] = fd
        return fd

    def close(self, keep_root: bool = False) -> None:
        for path, fd in list(self.open.items()):
            if path or not keep_root:
                os.close(fd)
                del self.open[path]


def extract(source, root: Path, limits: Limits, check=None) -> None:
    """Extract into `root` (an empty directory): regular files 0644 (0755 when executable), directories
    0755, nothing else. Each path is created below a descriptor of its parent without following links,
    so no member can write outside `root` whatever came before it."""
    directories = _Directories(root)
    try:
        for name, member, archive in members(source, limits, check):
            parent, _, leaf = name.rpartition("/")
            parent_fd = directories.fd(parent)
            if member.isdir():
                directories.fd(name)
                continue
            mode = 0o755 if member.mode & 0o111 else 0o644
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
            try:
                fd = os.open(leaf, flags, mode, dir_fd=parent_fd)
            except FileExistsError:
                raise ArchiveError(f"The archive holds {name!r} twice (or as a file and a directory).") from None
            with os.fdopen(fd, "wb") as target:
                for chunk in contents(archive, member):
                    target.write(chunk)
                os.fchmod(target.fileno(), mode)  # the umask must not decide
                if math.isfinite(member.mtime) and 0 <= member.mtime < 2**33:
                    os.utime(target.fileno(), (member.mtime, member.mtime))
    finally:
        directories.close()


def create(root: Path, out) -> None:
    """Write `root` as a gzip-compressed tar: directories and regular files only, never following a link
    (an application may leave links in its storage; they must not pull other files into a backup)."""
    with tarfile.open(fileobj=out, mode="w|gz") as archive:
        for directory, subdirectories, files, directory_fd in os.fwalk(root, follow_symlinks=False):
            subdirectories.sort()
            relative = os.path.relpath(directory, root)
            if relative != ".":
                info = tarfile.TarInfo(relative)
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                info.mtime = os.stat(directory_fd).st_mtime
                archive.addfile(info)
            for name in sorted(files):
                try:
                    fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=directory_fd)
                except OSError:
                    continue  # a link (or gone meanwhile)
                with os.fdopen(fd, "rb") as handle:
                    status = os.fstat(fd)
                    if not stat.S_ISREG(status.st_mode):
                        continue  # a named pipe or device: never read
                    info = tarfile.TarInfo(name if relative == "." else f"{relative}/{name}")
                    info.size, info.mtime = status.st_size, status.st_mtime
                    info.mode = 0o755 if status.st_mode & 0o111 else 0o644
                    archive.addfile(info, handle)


def main(argv: list[str]) -> int:
    """`create ROOT` (archive on stdout), `extract ROOT MAX_FILES MAX_BYTES` and `check MAX_FILES MAX_BYTES`
    (archive on stdin). Exit code 2 and one line on stderr when the archive is refused."""
    command, *arguments = argv
    try:
        if command == "create":
            create(Path(arguments[0]), sys.stdout.buffer)
        elif command == "extract":
            extract(sys.stdin.buffer, Path(arguments[0]), Limits(int(arguments[1]), int(arguments[2])))
        elif command == "check":
            check(sys.stdin.buffer, Limits(int(arguments[0]), int(arguments[1])))
        else:
            raise SystemExit(f"unknown command {command!r}")
    except ArchiveError as error:
        sys.stderr.write(f"{error}\n")
        return 2
    except Exception as error:  # noqa: BLE001 - one line for the tenant's `errors`, never a traceback
        message = f"{type(error).__name__}: {error}".replace(arguments[0], ".") if arguments else str(error)
        sys.stderr.write(f"The archive could not be processed ({message}).\n")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

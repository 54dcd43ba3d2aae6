"""Child processes that handle what a tenant uploaded: confined, unprivileged, and never left behind.

Everything a tenant uploads is hostile, and so is every program reading it (psql, pg_restore, the media
archive extractor). Such a child gets:

- an environment built from nothing (no `APPCONTROL_*`, no operator credentials: only what it is given);
- with bubblewrap (`bwrap`, Debian's `bubblewrap`): its own mount, PID, IPC and user namespaces, an
  unprivileged uid, no capabilities, an empty `/tmp` as working directory, read-only system files, and
  only the paths it is given — never the data directory or the secret key; no network unless asked;
- without bubblewrap (the fallback): the empty environment, an empty working directory, `no_new_privs`,
  and, when the worker runs as root, the unprivileged uid (through `setpriv`);
- in both: its own process group, killed at its deadline, killed with the job that started it
  (`--die-with-parent` / parent-death signal), and stderr in a file, so no pipe can fill up and hang.

`APPCONTROL_SANDBOX` chooses: `auto` (bubblewrap when installed), `bwrap` (required), `none` (fallback).
"""

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from .jobs import Cancelled, child_ended, child_started

# System paths a dynamically linked program needs to start; none of them holds a secret.
SYSTEM_READ_ONLY = ("/usr", "/etc/ld.so.cache", "/etc/ssl/certs", "/etc/localtime")
# Name resolution, only for children that may use the network.
NETWORK_READ_ONLY = ("/etc/hosts", "/etc/resolv.conf", "/etc/nsswitch.conf", "/etc/host.conf", "/etc/gai.conf")
# Inside the sandbox: an empty tmpfs of its own, its working and home directory.
SANDBOX_TMP = "/tmp"  # noqa: S108
MERGED_USR_LINKS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")


class SandboxError(Exception):
    """The sandbox the operator asked for cannot be set up."""


@dataclass(frozen=True)
class Sandbox:
    """What a confined child may see besides the system: paths bound at the same place, and the network."""

    read_only: tuple[str, ...] = ()
    writable: tuple[str, ...] = ()
    network: bool = False
    # Read-only again inside a writable path (bound over it): files a child may use but never replace.
    protected: tuple[str, ...] = ()
    # (host file, path inside) bound read-only at another place, e.g. a minimal /etc/passwd for programs that
    # need their uid to have a name (ssh). Only bubblewrap can: a fallback child sees the host's own files.
    files: tuple[tuple[str, str], ...] = ()


@dataclass
class ChildResult:
    returncode: int
    stderr: str
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out


def bubblewrap() -> str | None:
    """The bwrap binary to use, or None for the fallback; raises when `bwrap` is required but missing."""
    mode = settings.APPCONTROL_SANDBOX
    if mode == "none":
        return None
    path = shutil.which("bwrap")
    if path is None and mode == "bwrap":
        raise SandboxError("APPCONTROL_SANDBOX=bwrap, but bubblewrap (bwrap) is not installed on this host.")
    return path


def sandbox_uid() -> int:
    return settings.APPCONTROL_SANDBOX_UID


def drops_privileges() -> bool:
    """Whether a fallback child runs under another uid (only root can switch)."""
    return os.geteuid() == 0


def child_environment(**variables: str) -> dict[str, str]:
    """A minimal environment: nothing from the worker's own (which holds the operator's secrets)."""
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "TZ": "UTC"}
    env["HOME"] = SANDBOX_TMP
    env.update(variables)
    return env


def _bwrap_argv(bwrap: str, sandbox: Sandbox) -> list[str]:
    uid = str(sandbox_uid())
    argv = [
        bwrap, "--die-with-parent", "--new-session", "--unshare-all", "--unshare-user",
        "--uid", uid, "--gid", uid, "--cap-drop", "ALL",
        "--proc", "/proc", "--dev", "/dev", "--tmpfs", SANDBOX_TMP, "--dir", "/run", "--chdir", SANDBOX_TMP,
    ]  # fmt: skip
    if sandbox.network:
        argv.append("--share-net")
    for link in MERGED_USR_LINKS:
        if os.path.islink(link):
            argv += ["--symlink", os.readlink(link), link]
        elif os.path.isdir(link):
            argv += ["--ro-bind", link, link]
    read_only = [*SYSTEM_READ_ONLY, *(NETWORK_READ_ONLY if sandbox.network else ()), *sandbox.read_only]
    for path in read_only:
        argv += ["--ro-bind-try", path, path]
    for path in sandbox.writable:
        argv += ["--bind", path, path]
    for path in sandbox.protected:
        argv += ["--ro-bind", path, path]
    for source, target in sandbox.files:
        argv += ["--ro-bind", source, target]
    return [*argv, "--"]


def _fallback_argv() -> list[str]:
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        # Without it a child would keep the worker's uid and outlive it: refuse rather than fail open.
        raise SandboxError("The sandbox's fallback needs setpriv (util-linux); install it or bubblewrap.")
    argv = [setpriv, "--no-new-privs", "--pdeathsig", "KILL"]
    if drops_privileges():
        uid = str(sandbox_uid())
        argv += ["--reuid", uid, "--regid", uid, "--clear-groups", "--inh-caps=-all", "--bounding-set=-all"]
    return [*argv, "--"]


def confined_argv(argv: list[str], sandbox: Sandbox) -> list[str]:
    bwrap = bubblewrap()
    prefix = _bwrap_argv(bwrap, sandbox) if bwrap else _fallback_argv()
    return [*prefix, *argv]


@contextlib.contextmanager
def private_directory():
    """A fresh directory only the confined child's uid (and root) can enter, removed afterwards."""
    path = tempfile.mkdtemp(prefix="appcontrol-child-")
    try:
        if bubblewrap() is None and drops_privileges():
            os.chown(path, sandbox_uid(), sandbox_uid())
        yield Path(path)
    finally:
        shutil.rmtree(path, ignore_errors=True)


def hand_over(path: Path) -> None:
    """Let the fallback's unprivileged uid own a file or directory it must read or write."""
    if bubblewrap() is None and drops_privileges():
        os.chown(path, sandbox_uid(), sandbox_uid())


def _align_descriptor(stream) -> None:
    """A child reads a file from its descriptor's offset, which buffering leaves wherever it read ahead to:
    move it to where the stream stands."""
    try:
        os.lseek(stream.fileno(), stream.tell(), os.SEEK_SET)
    except (AttributeError, OSError, ValueError):
        pass  # not a file object (DEVNULL, a pipe): nothing to align


@dataclass(eq=False)  # compared and hashed by identity: the job's set of running children holds it
class Child:
    """A confined child process: `with Child(...) as child:` starts it; leaving the block kills it if it
    still runs. A watchdog kills it at `timeout` seconds. With `stdin=PIPE` or `stdout=PIPE`, write to
    `child.stdin_pipe` or read `child.stdout_pipe`."""

    argv: list[str]
    sandbox: Sandbox
    env: dict[str, str]
    timeout: float
    stdin: object = subprocess.DEVNULL
    stdout: object = subprocess.DEVNULL
    process: subprocess.Popen | None = field(default=None, init=False)
    timed_out: bool = field(default=False, init=False)
    cancelled: bool = field(default=False, init=False)

    def __enter__(self):
        _align_descriptor(self.stdin)
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed in __exit__
        self._cwd = tempfile.mkdtemp(prefix="appcontrol-cwd-")  # empty; the sandbox uses its own /tmp
        os.chmod(self._cwd, 0o755)  # noqa: S103 - empty; the fallback's unprivileged uid must enter it
        self.process = subprocess.Popen(
            confined_argv(self.argv, self.sandbox),
            stdin=self.stdin,
            stdout=self.stdout,
            stderr=self._stderr,
            env=self.env,
            cwd=self._cwd,
            start_new_session=True,  # its own process group: the watchdog kills all of it
            close_fds=True,
        )
        try:
            self._watchdog = threading.Timer(max(self.timeout, 0.0), self._expire)
            self._watchdog.daemon = True
            self._watchdog.start()
            child_started(self)  # a cancelled job's heartbeat can kill it
        except BaseException:
            self.kill()  # started, but the block that would stop it will not run
            self.process.wait()
            raise
        return self

    @property
    def stdout_pipe(self):
        return self.process.stdout

    @property
    def stdin_pipe(self):
        return self.process.stdin

    def _expire(self) -> None:
        self.timed_out = True
        self.kill()

    def cancel(self) -> None:
        """Kill it because its job was cancelled: `wait()` then raises Cancelled."""
        self.cancelled = True
        self.kill()

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)

    def wait(self) -> ChildResult:
        returncode = self.process.wait()
        self._watchdog.cancel()
        if self.cancelled:
            raise Cancelled("The job was cancelled.")
        return ChildResult(returncode=returncode, stderr=self.stderr_tail(), timed_out=self.timed_out)

    def stderr_tail(self, limit: int = 2000) -> str:
        self._stderr.flush()
        self._stderr.seek(0, os.SEEK_END)
        size = self._stderr.tell()
        self._stderr.seek(max(size - limit * 4, 0))
        return self._stderr.read().decode("utf-8", "replace").strip()[-limit:]

    def __exit__(self, *exc_info):
        try:
            if self.process.poll() is None:
                self.kill()
            for pipe in (self.process.stdin, self.process.stdout):
                if pipe is not None:
                    with contextlib.suppress(OSError):
                        pipe.close()
            self.process.wait()
        finally:
            child_ended(self)
            self._watchdog.cancel()
            self._stderr.close()
            shutil.rmtree(self._cwd, ignore_errors=True)


def run_child(argv, *, sandbox: Sandbox, env: dict[str, str], timeout: float, stdin=subprocess.DEVNULL) -> ChildResult:
    """Run a confined child to its end (or its deadline) and return its exit status and stderr."""
    with Child(argv, sandbox, env, timeout, stdin=stdin) as child:
        return child.wait()

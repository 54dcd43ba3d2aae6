"""What the benchmarks share: a fresh data dir, a seeded database, and `appcontrol serve` on a free port."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

import httpx

APPCONTROL = [sys.executable, "-m", "appcontrol"]


def fresh_environment(*, sqlite: bool = False) -> dict:
    """Process environment for a new data dir; the database is DATABASE_URL's unless `sqlite`."""
    env = {**os.environ, "APPCONTROL_DATA_DIR": tempfile.mkdtemp(prefix="appcontrol-bench-")}
    env["APPCONTROL_LOG_LEVEL"] = "WARNING"
    if sqlite:
        env.pop("DATABASE_URL", None)
    return env


def appcontrol(env: dict, *args: str, code: str | None = None) -> str:
    """Run an `appcontrol` command (with `code` for `shell -c`); return its stdout."""
    command = [*APPCONTROL, *args] + (["-c", code] if code is not None else [])
    return subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout


def seed(env: dict, code: str) -> str:
    """Migrate, run the seeding code, and return the last line it printed (the token)."""
    appcontrol(env, "migrate", "-v0")
    return appcontrol(env, "shell", "-v0", code=code).strip().splitlines()[-1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def served(env: dict, *, worker: bool = False):
    """`appcontrol serve` (already migrated; without its worker unless asked) on 127.0.0.1; yields its URL."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    options = [] if worker else ["--no-worker"]
    server = subprocess.Popen(
        [*APPCONTROL, "serve", "--bind", f"127.0.0.1:{port}", *options, "--no-migrate"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(100):
            try:
                httpx.get(f"{base}/apps/v3/")
                break
            except httpx.TransportError:
                time.sleep(0.2)
        yield base
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)

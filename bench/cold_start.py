"""A newcomer's first `make run`: from a fresh clone and an empty pip cache to the API's first answer.

    .venv/bin/python bench/cold_start.py --rev <before> --rev <after> [--runs 3]

Each run clones this repository at one revision into a temporary directory, gives pip an empty cache
(`PIP_CACHE_DIR`), runs `make run` on a free port with the embedded default (no PostgreSQL) and times each
phase by the commands make echoes: the virtual environment, the package install, migrations, demo data,
and the server's start until `GET /apps/v3/` answers. Revisions alternate within each round.
"""

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
# The first line make echoes for each phase, in order.
PHASES = [("install", "pip install --quiet -e"), ("migrate", "appcontrol migrate"), ("demo", "appcontrol demo")]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 - loopback only
            return response.status == 200
    except OSError:
        return False


def one_run(rev: str) -> dict[str, float]:
    scratch = Path(tempfile.mkdtemp(prefix="appcontrol-cold-"))
    try:
        clone = scratch / "repo"
        subprocess.run(["git", "clone", "-q", str(REPOSITORY), str(clone)], check=True)
        subprocess.run(["git", "-C", str(clone), "checkout", "-q", rev], check=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("APPCONTROL_", "DATABASE_URL", "VIRTUAL_ENV"))}
        env["PIP_CACHE_DIR"] = str(scratch / "pip-cache")
        port = free_port()
        marks: dict[str, float] = {}
        started = time.monotonic()
        process = subprocess.Popen(
            ["make", "run", f"BIND=127.0.0.1:{port}"], cwd=clone, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
        )  # fmt: skip

        def watch():
            for line in process.stdout:
                for phase, marker in PHASES:
                    if marker in line and phase not in marks:
                        marks[phase] = time.monotonic() - started
                if "appcontrol serve" in line and "serve" not in marks:
                    marks["serve"] = time.monotonic() - started

        threading.Thread(target=watch, daemon=True).start()
        while not answers(f"http://127.0.0.1:{port}/apps/v3/"):
            if process.poll() is not None:
                raise SystemExit(f"make run stopped (exit code {process.returncode}) at {rev}")
            time.sleep(0.1)
        total = time.monotonic() - started
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)
        points = [0.0, *(marks[name] for name, _ in PHASES), marks["serve"], total]
        names = ["venv", "install", "migrate", "demo", "serve"]
        return {**{name: points[i + 1] - points[i] for i, name in enumerate(names)}, "total": total}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rev", action="append", required=True, help="a revision to time (give two)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    results: dict[str, list[dict]] = {rev: [] for rev in args.rev}
    for round_number in range(args.runs):
        order = args.rev if round_number % 2 == 0 else list(reversed(args.rev))
        for rev in order:
            result = one_run(rev)
            results[rev].append(result)
            print(rev, " ".join(f"{name} {seconds:.1f}" for name, seconds in result.items()), flush=True)
    columns = ["venv", "install", "migrate", "demo", "serve", "total"]
    print(f"\nmedians (s) {' '.join(f'{c:>8}' for c in columns)}")
    for rev, runs in results.items():
        print(f"{rev[:11]:11} {' '.join(f'{statistics.median(r[c] for r in runs):8.1f}' for c in columns)}")


if __name__ == "__main__":
    main()

"""Throughput and latency of the seed's lookups against a real `appcontrol serve` on 127.0.0.1.

    .venv/bin/python bench/api_lists.py [--apps 1000] [--seconds 10] [--concurrency 8]

Seeds a fresh data dir (SQLite, or the database in DATABASE_URL), starts the server with its
default workers, then for each scenario runs a bounded request loop and prints requests/s and
p50/p95 latency. Traffic goes to 127.0.0.1 only.
"""

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import httpx

SEED = """
from appcontrol.accounts.models import Organisation, Role
from appcontrol.accounts.services import account_create, token_create
from appcontrol.applications.services import application_create
org = Organisation.objects.create(slug="bench", name="Bench")
user = account_create(email="bench@example.com", api_only=True, organisation=org, role=Role.MEMBER)
for n in range({apps}):
    application_create(organisation=org, slug=f"app-{{n:05d}}", name=f"App {{n}}")
print(token_create(user=user, name="bench")[1])
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_scenario(url: str, token: str, seconds: float, concurrency: int) -> tuple[float, float, float]:
    latencies: list[float] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def worker():
        with httpx.Client(headers={"authorization": f"Token {token}"}, timeout=30) as client:
            while time.monotonic() < deadline:
                started = time.perf_counter()
                client.get(url).raise_for_status()
                with lock:
                    latencies.append(time.perf_counter() - started)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies.sort()
    return (
        len(latencies) / seconds,
        latencies[len(latencies) // 2] * 1000,
        latencies[int(len(latencies) * 0.95)] * 1000,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--apps", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()

    data_dir = tempfile.mkdtemp(prefix="appcontrol-bench-")
    env = {**os.environ, "APPCONTROL_DATA_DIR": data_dir, "APPCONTROL_LOG_LEVEL": "WARNING"}
    appcontrol = [sys.executable, "-m", "appcontrol"]
    subprocess.run([*appcontrol, "migrate", "-v0"], env=env, check=True)
    token = (
        subprocess.run(
            [*appcontrol, "shell", "-c", SEED.format(apps=args.apps)],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [*appcontrol, "serve", "--bind", f"127.0.0.1:{port}", "--no-worker", "--no-migrate"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                httpx.get(f"{base}/apps/v3/")
                break
            except httpx.TransportError:
                time.sleep(0.2)
        app = httpx.get(
            f"{base}/apps/v3/applications/?slug=app-00042", headers={"authorization": f"Token {token}"}
        ).json()["results"][0]["uuid"]
        scenarios = {
            "applications ?slug= (seed step 1)": f"{base}/apps/v3/applications/?slug=app-00042",
            "environments ?application= (seed step 2)": f"{base}/apps/v3/environments/?application={app}",
            "applications, page of 100": f"{base}/apps/v3/applications/?page_size=100",
        }
        database = "PostgreSQL" if env.get("DATABASE_URL") else "SQLite"
        print(f"{args.apps} applications on {database}, {args.concurrency} clients, {args.seconds:.0f} s each")
        print(f"{'scenario':45} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8}")
        for name, url in scenarios.items():
            rate, p50, p95 = run_scenario(url, token, args.seconds, args.concurrency)
            print(f"{name:45} {rate:8.0f} {p50:8.1f} {p95:8.1f}")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


if __name__ == "__main__":
    main()

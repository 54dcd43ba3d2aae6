"""Throughput and latency of the seed's lookups against a real `appcontrol serve` on 127.0.0.1.

    .venv/bin/python bench/api_lists.py [--apps 1000] [--seconds 10] [--concurrency 8]

Seeds a fresh data dir (SQLite, or the database in DATABASE_URL), starts the server with its
default workers, then for each scenario runs a bounded request loop and prints requests/s and
p50/p95 latency. Traffic goes to 127.0.0.1 only.
"""

import argparse
import threading
import time

import httpx
from harness import fresh_environment, seed, served

SEED = """
from appcontrol.accounts.models import Organisation, Role
from appcontrol.accounts.services import account_create, token_create
from appcontrol.applications.services import application_create
org = Organisation.objects.create(slug="bench", name="Bench", environment_limit=0)  # 0: no environment limit
user = account_create(email="bench@example.com", api_only=True, organisation=org, role=Role.MEMBER)
for n in range({apps}):
    application_create(organisation=org, slug=f"app-{{n:05d}}", name=f"App {{n}}")
print(token_create(user=user, name="bench")[1])
"""


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

    env = fresh_environment()
    token = seed(env, SEED.format(apps=args.apps))
    slug = f"app-{min(42, args.apps - 1):05d}"  # app-00042, or the last one when there are fewer
    with served(env) as base:
        app = httpx.get(
            f"{base}/apps/v3/applications/?slug={slug}", headers={"authorization": f"Token {token}"}
        ).json()["results"][0]["uuid"]
        scenarios = {
            "applications ?slug= (seed step 1)": f"{base}/apps/v3/applications/?slug={slug}",
            "environments ?application= (seed step 2)": f"{base}/apps/v3/environments/?application={app}",
            "applications, page of 100": f"{base}/apps/v3/applications/?page_size=100",
        }
        database = "PostgreSQL" if env.get("DATABASE_URL") else "SQLite"
        print(f"{args.apps} applications on {database}, {args.concurrency} clients, {args.seconds:.0f} s each")
        print(f"{'scenario':45} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8}")
        for name, url in scenarios.items():
            rate, p50, p95 = run_scenario(url, token, args.seconds, args.concurrency)
            print(f"{name:45} {rate:8.0f} {p50:8.1f} {p95:8.1f}")


if __name__ == "__main__":
    main()

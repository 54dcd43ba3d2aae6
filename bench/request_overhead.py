"""What rate limiting and ETags cost per API request, against a real `appcontrol serve` on 127.0.0.1.

    .venv/bin/python bench/request_overhead.py [--seconds 8] [--rounds 3]

Needs `wrk` (Debian: `apt install wrk`); the Redis variant needs a Redis at APPCONTROL_TEST_REDIS_URL
(default redis://127.0.0.1:6379/15). One seeded data dir (SQLite, or the database in DATABASE_URL) serves
every run; each run starts a fresh server with one counter setting (limits so high that nothing is
refused): no rate limit, counters in the database, counters in Redis. Each round runs the variants, and the
two requests within each, in alternating order; each figure is the median over the rounds of wrk's
requests/s and latency percentiles for the seed's first lookup (`GET /apps/v3/applications/?slug=`, 200
with a body), and for the same request with a current `If-None-Match` (304, no body). Last, the ETag's own
cost: the SHA-256 the server computes over a body, timed in-process for the bodies of a one-row answer and
of a page of 100 applications.
"""

import argparse
import os
import re
import statistics
import subprocess
import timeit

import httpx
from django.conf import settings
from harness import fresh_environment, seed, served

settings.configure()  # defaults: enough to import the server's ETag function here
from appcontrol.core.conditional import etag_of  # noqa: E402

SEED = """
from appcontrol.accounts.models import Organisation, Role
from appcontrol.accounts.services import account_create, token_create
from appcontrol.applications.services import application_create
org = Organisation.objects.create(slug="bench", name="Bench", environment_limit=0)  # 0: no environment limit
user = account_create(email="bench@example.com", api_only=True, organisation=org, role=Role.MEMBER)
for n in range(200):
    application_create(organisation=org, slug=f"app-{n:05d}", name=f"App {n}")
print(token_create(user=user, name="bench")[1])
"""
NO_LIMIT_IN_PRACTICE = "1000000000"
REDIS_URL = os.environ.get("APPCONTROL_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
VARIANTS = {
    "no rate limit": {"APPCONTROL_RATE_LIMIT": "0"},
    "limit, database counters": {"APPCONTROL_RATE_LIMIT": NO_LIMIT_IN_PRACTICE},
    "limit, Redis counters": {"APPCONTROL_RATE_LIMIT": NO_LIMIT_IN_PRACTICE, "APPCONTROL_REDIS_URL": REDIS_URL},
}


def wrk(url: str, headers: dict, seconds: float, connections: int) -> dict:
    command = [
        "wrk",
        "--latency",
        "-t",
        str(min(2, connections)),
        "-c",
        str(connections),
        "-d",
        f"{max(1, round(seconds))}s",
    ]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run([*command, url], check=True, capture_output=True, text=True).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    assert not errors, f"wrk saw failed requests:\n{output}"

    def latency_ms(percentile: str) -> float:
        value, unit = re.search(rf"^\s+{percentile}%\s+([\d.]+)(us|ms|s)$", output, re.M).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    return {
        "req/s": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50 ms": latency_ms("50"),
        "p99 ms": latency_ms("99"),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, nargs="+", default=[1, 16])
    args = parser.parse_args()

    env = fresh_environment()
    token = seed(env, SEED)
    auth = {"Authorization": f"Token {token}"}
    results: dict[tuple, list[dict]] = {}
    bodies: dict[str, bytes] = {}
    names = list(VARIANTS)
    for round_number in range(args.rounds):
        for name in names if round_number % 2 == 0 else reversed(names):
            with served({**env, **VARIANTS[name]}) as base:
                url = f"{base}/apps/v3/applications/?slug=app-00042"
                etag = httpx.get(url, headers=auth).headers["etag"]
                if not bodies:
                    for label, query in (("one-row answer", "slug=app-00042"), ("page of 100", "page_size=100")):
                        bodies[label] = httpx.get(f"{base}/apps/v3/applications/?{query}", headers=auth).content
                wrk(url, auth, 2, 4)  # warm up: connections, caches
                for connections in args.connections:
                    kinds = [("200", auth), ("304", {**auth, "If-None-Match": etag})]
                    for kind, headers in kinds if round_number % 2 == 0 else reversed(kinds):
                        measured = wrk(url, headers, args.seconds, connections)
                        results.setdefault((name, kind, connections), []).append(measured)
    etag_costs = {}
    for label, body in bodies.items():
        seconds = min(timeit.repeat(lambda body=body: etag_of(body), number=2000, repeat=5)) / 2000
        etag_costs[label] = (len(body), seconds * 1e6)
    database = "PostgreSQL" if env.get("DATABASE_URL") else "SQLite"
    print(f"{database}, median of {args.rounds} rounds, {args.seconds:.0f} s each, GET applications/?slug=")
    print(f"{'variant':28} {'answer':>6} {'conns':>5} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}")
    for (name, kind, connections), runs in results.items():
        median = {field: statistics.median(run[field] for run in runs) for field in runs[0]}
        print(
            f"{name:28} {kind:>6} {connections:>5} {median['req/s']:8.0f} {median['p50 ms']:8.2f} "
            f"{median['p99 ms']:8.2f}"
        )
    for label, (size, microseconds) in etag_costs.items():
        print(f"ETag of a {label} ({size} bytes): {microseconds:.1f} µs")


if __name__ == "__main__":
    main()

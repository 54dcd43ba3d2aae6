"""Requests/s and latency of the seed's four lookups and of the public API root, under 1 and 200 clients,
against real `appcontrol serve` processes on 127.0.0.1 — for one tree, or several compared like with like.

    .venv/bin/python bench/load.py [--tree PATH ...] [--seconds 8] [--rounds 3] [--rate-limits off|database|redis]
                                   [--serve-args="--threads 1" ...]

Needs `wrk` (Debian: `apt install wrk`). Each tree (a checkout's root; default: this one) gets its own data
dir, migrated and seeded by its own code with the same data (SQLite, or a database per tree named after
DATABASE_URL's with a suffix): 200 applications (400 environments), 20 backups per environment with two
parts each. Rounds run the trees in alternating order, a fresh server each time with `appcontrol serve`'s
defaults; each figure is the median over the rounds ("rounds": the lowest and highest share of the root's
rate within one round, root and lookup measured on the same server). Rate limits are off unless asked for
(`database` or `redis` set them too high to refuse anything, so their cost is included and nothing fails).

The lookups: an application by slug, the environments of an application, an environment's successful
backups (newest first, as `appctl backups latest` asks: one page of 1), and the parts of a backup.

Beside each rate, the CPU time a request cost the server's processes and the database's (PostgreSQL's
processes; SQLite works inside the server), read from /proc around each wrk run. Under 200 clients the two
cores are saturated, so these are what a rate is made of, and they vary far less between runs than rates.
"least busy process": over the rounds, the lowest CPU of the least busy web process as a share of the
busiest's in the same run; far under 100 % means the connections were not spread over the processes.
"""

import argparse
import os
import re
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
from harness import free_port, fresh_environment

SEED = """
from datetime import timedelta
from django.utils import timezone
from appcontrol.accounts.models import Organisation, Role
from appcontrol.accounts.services import account_create, token_create
from appcontrol.applications.services import application_create
from appcontrol.backups.models import Backup, ServiceInstanceBackup
from appcontrol.services.models import Service, ServiceInstance

org = Organisation.objects.create(slug="bench", name="Bench", environment_limit=0)  # 0: no environment limit
user = account_create(email="bench@example.com", api_only=True, organisation=org, role=Role.MEMBER)
database, storage = Service.objects.get(engine="sqlite"), Service.objects.get(engine="filesystem")
now = timezone.now()
backups, parts = [], []
for n in range(200):
    app = application_create(organisation=org, slug=f"app-{n:05d}", name=f"App {n}")
    for env in app.environments.all():
        instances = [
            ServiceInstance.objects.create(environment=env, service=s, type=s.type, service_status="ATTACHED")
            for s in (database, storage)
        ]
        for b in range(20):
            backup = Backup(environment=env, state="COMPLETED", success="FAILURE" if b % 4 == 3 else "SUCCESS",
                            created_at=now - timedelta(hours=b, minutes=n))
            backups.append(backup)
            parts += [ServiceInstanceBackup(backup=backup, environment=env, service_instance=i, service_type=i.type,
                                            engine="sqlite", size=1000, taken_at=backup.created_at,
                                            ended_at=backup.created_at, queued_at=backup.created_at)
                      for i in instances]
Backup.objects.bulk_create(backups, batch_size=5000)
ServiceInstanceBackup.objects.bulk_create(parts, batch_size=5000)
print(token_create(user=user, name="bench")[1])
"""
RATE_LIMITS = {
    "off": {"APPCONTROL_RATE_LIMIT": "0", "APPCONTROL_RATE_LIMIT_ANONYMOUS": "0"},
    "database": {"APPCONTROL_RATE_LIMIT": "1000000000", "APPCONTROL_RATE_LIMIT_ANONYMOUS": "1000000000"},
    "redis": {
        "APPCONTROL_RATE_LIMIT": "1000000000",
        "APPCONTROL_RATE_LIMIT_ANONYMOUS": "1000000000",
        "APPCONTROL_REDIS_URL": os.environ.get("APPCONTROL_TEST_REDIS_URL", "redis://127.0.0.1:6379/15"),
    },
}


def tree_environment(tree: Path, index: int) -> dict:
    env = fresh_environment()
    env["PYTHONPATH"] = os.pathsep.join([str(tree / "src"), str(tree / "client" / "src")])
    if env.get("DATABASE_URL", "").startswith("postgres"):
        base, name = env["DATABASE_URL"].rsplit("/", 1)
        env["DATABASE_URL"] = f"{base}/{name}_load{index}"
        maintenance = f"{base}/postgres"
        for statement in (f"DROP DATABASE IF EXISTS {name}_load{index}", f"CREATE DATABASE {name}_load{index}"):
            subprocess.run(["psql", maintenance, "-qc", statement], check=True)
    return env


def seeded(tree: Path, index: int, settings: dict) -> tuple[Path, dict, str]:
    """(tree, its environment with `settings`, the bench token): a data dir and database of its own, migrated
    and seeded by the tree's own code, with planner statistics as a serving instance has them."""
    env = {**tree_environment(tree, index), **settings}
    run(env, "migrate", "-v0")
    token = run(env, "shell", "-v0", "-c", SEED).strip().splitlines()[-1]
    run(env, "scheduler", "--once")  # SQLite's statistics
    if env.get("DATABASE_URL", "").startswith("postgres"):
        run(env, "shell", "-c", "from django.db import connection; connection.cursor().execute('ANALYZE')")
    return tree, env, token


def run(env: dict, *args: str) -> str:
    return subprocess.run(
        [sys.executable, "-m", "appcontrol", *args], env=env, check=True, capture_output=True, text=True
    ).stdout


def wrk(url: str, token: str | None, seconds: int, connections: int) -> tuple[float, float, float]:
    command = ["wrk", "--latency", "-t", "2" if connections > 1 else "1", "-c", str(connections), "-d", f"{seconds}s"]
    command += ["--timeout", "10s"]
    if token:
        command += ["-H", f"Authorization: Token {token}"]
    output = subprocess.run([*command, url], check=True, capture_output=True, text=True).stdout
    failures = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: (.*)", output)
    assert not failures and not errors, f"failed requests:\n{output}"

    def latency_ms(percentile: str) -> float:
        found = re.search(rf"^\s+{percentile}%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.M)
        assert found, f"no {percentile}% latency in wrk's output:\n{output}"
        value, unit = found.groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]

    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    return rate, latency_ms("50"), latency_ms("99")


def _processes() -> dict[int, tuple[int, str, int]]:
    """Every process: pid -> (parent pid, name, CPU ticks used so far by it and by its children that ended:
    PostgreSQL's server process gets the time of the connections' processes that closed)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        found[int(entry.name)] = (int(fields[1]), name, sum(int(ticks) for ticks in fields[11:15]))
    return found


def cpu_seconds(server_pid: int) -> dict[str, float]:
    """CPU seconds used so far by the server's process tree, by PostgreSQL's processes, and by each of the
    tree's gunicorn processes (`web <pid>`)."""
    processes = _processes()
    tree, grown = {server_pid}, True
    while grown:
        children = {pid for pid, (parent, _, _) in processes.items() if parent in tree} - tree
        tree |= children
        grown = bool(children)
    ticks = os.sysconf("SC_CLK_TCK")
    used = {
        "server": sum(processes[pid][2] for pid in tree if pid in processes) / ticks,
        "database": sum(used for _, name, used in processes.values() if name == "postgres") / ticks,
    }
    masters = {pid for pid in tree if "gunicorn" in _command_line(pid)}
    for pid in tree:
        if processes[pid][0] in masters:  # a web process: a child of gunicorn's master
            used[f"web {pid}"] = processes[pid][2] / ticks
    return used


def _command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text(errors="replace")
    except OSError:
        return ""  # gone meanwhile


def least_busy_share(before: dict[str, float], after: dict[str, float]) -> float:
    """The least busy web process's CPU as a share of the busiest one's over a run: near 1 when connections
    are spread evenly over the processes, near 0 when one process serves them all."""
    spent = [after[name] - before.get(name, 0.0) for name in after if name.startswith("web ")]
    return min(spent) / max(spent) if len(spent) > 1 and max(spent) > 0 else 1.0


def serve(env: dict, extra: tuple[str, ...] = ()):
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "appcontrol", "serve", "--bind", f"127.0.0.1:{port}", "--no-worker", "--no-migrate",
         *extra],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            httpx.get(f"{base}/apps/v3/")
            return process, base
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError("the server did not start")


def lookups(base: str, token: str) -> dict[str, str]:
    auth = {"authorization": f"Token {token}"}
    app = httpx.get(f"{base}/apps/v3/applications/?slug=app-00042", headers=auth).json()["results"][0]["uuid"]
    env = httpx.get(f"{base}/apps/v3/environments/?application={app}&slug=live", headers=auth).json()["results"][0]
    backups = httpx.get(f"{base}/apps/v3/backups/?environment={env['uuid']}&success=SUCCESS&page_size=1", headers=auth)
    backup = backups.json()["results"][0]["uuid"]
    return {
        "application by slug": f"{base}/apps/v3/applications/?slug=app-00042",
        "environments of an application": f"{base}/apps/v3/environments/?application={app}",
        "latest successful backup": f"{base}/apps/v3/backups/?environment={env['uuid']}&success=SUCCESS&page_size=1",
        "parts of a backup": f"{base}/apps/v3/service-instance-backups/?backup={backup}",
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tree", action="append", type=Path, help="a checkout to measure (repeat to compare)")
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 200])
    parser.add_argument("--rate-limits", choices=RATE_LIMITS, default="off")
    parser.add_argument(
        "--serve-args",
        action="append",
        help="more arguments for `appcontrol serve`, e.g. '--threads 1': once for every tree, or once per --tree"
        " in the same order (the same tree twice compares two settings)",
    )
    args = parser.parse_args()
    trees = [tree.resolve() for tree in (args.tree or [Path(__file__).resolve().parents[1]])]

    serve_args = args.serve_args or [""]
    if len(serve_args) == 1:
        serve_args *= len(trees)
    if len(serve_args) != len(trees):
        parser.error("give --serve-args once, or once per --tree")
    prepared = [
        (*seeded(tree, index, RATE_LIMITS[args.rate_limits]), tuple(shlex.split(extra)))
        for index, (tree, extra) in enumerate(zip(trees, serve_args, strict=True))
    ]

    results: dict[tuple, list] = {}
    for round_number in range(args.rounds):
        numbered = list(enumerate(prepared))
        order = numbered if round_number % 2 == 0 else list(reversed(numbered))
        for run_number, (_, env, token, extra) in order:
            process, base = serve(env, extra)
            try:
                targets = {"API root (no token)": f"{base}/apps/v3/", **lookups(base, token)}
                wrk(targets["application by slug"], token, 2, 8)  # warm up
                for name, url in targets.items():
                    for clients in args.clients:
                        before = cpu_seconds(process.pid)
                        measured = wrk(url, None if name.startswith("API root") else token, args.seconds, clients)
                        after = cpu_seconds(process.pid)
                        served = measured[0] * args.seconds
                        cpu = tuple(1000 * (after[part] - before[part]) / served for part in ("server", "database"))
                        balance = least_busy_share(before, after)
                        results.setdefault((run_number, name, clients), []).append((*measured, *cpu, balance))
            finally:
                process.terminate()
                process.wait(timeout=30)

    database = "PostgreSQL" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "SQLite"
    print(f"{database}, rate limits {args.rate_limits}, median of {args.rounds} rounds of {args.seconds} s")
    for run_number, (tree, _, _, extra) in enumerate(prepared):
        print(f"\n{tree}" + (f" (serve {shlex.join(extra)})" if extra else ""))
        print(
            f"{'request':34} {'clients':>7} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'% of root':>9}"
            f" {'rounds':>9} {'server CPU ms/req':>17} {'database':>8} {'least busy process':>18}"
        )
        for clients in args.clients:
            root_runs = results[(run_number, "API root (no token)", clients)]
            root = statistics.median(r[0] for r in root_runs)
            for (number, name, count), runs in results.items():
                if number != run_number or count != clients:
                    continue
                rate, p50, p99, server, database = (statistics.median(r[i] for r in runs) for i in range(5))
                balance = min(r[5] for r in runs)
                # The lowest and highest share of the root's rate in a single round (the same server for both).
                shares = [100 * r[0] / root_r[0] for r, root_r in zip(runs, root_runs, strict=True)]
                spread = f"{min(shares):.0f}-{max(shares):.0f}%"
                print(
                    f"{name:34} {clients:7d} {rate:8.0f} {p50:8.1f} {p99:8.1f} {100 * rate / root:8.0f}%"
                    f" {spread:>9} {server:17.2f} {database:8.2f} {100 * balance:17.0f}%"
                )


if __name__ == "__main__":
    main()

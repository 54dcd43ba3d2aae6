"""CPU and wall time per request of the seed's four lookups and of the public API root, in process: Django's
WSGI handler called directly (no HTTP server, no other thread), for one tree or several compared like with like.

    [DATABASE_URL=postgres://...] .venv/bin/python bench/lookup_cost.py [--tree PATH ...] [--rounds 2]
                                                                       [--round-trips real|replayed|ping|alone]

Each tree (a checkout's root; default: this one) is seeded as bench/load.py seeds it, in its own data dir and
database. Each round runs the trees in alternating order, each in a fresh process: 100 warm-up requests per
request, then 7 blocks of 200 of each in turn; a figure is the lowest block's mean (noise only adds time),
then the median over rounds. CPU is the process's own; wall adds what it waited for, which on PostgreSQL is
the database's work and the round trips (SQLite works inside the process: its work is CPU). With
`--round-trips replayed`, each statement runs once and its rows are then handed out from memory: what the
rest of a request costs; `ping` adds a `SELECT 1` round trip in each statement's place; `alone` runs only the
request's statements, each through Django's cursor with its rows read, and none of the rest.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from load import RATE_LIMITS, seeded

REQUESTS = """
import io, json, sys, time
import django
django.setup()
from django.core.handlers.wsgi import WSGIHandler

handler, token = WSGIHandler(), sys.argv[1]

def get(path, auth=True):
    route, _, query = path.partition("?")
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": route, "QUERY_STRING": query, "SERVER_NAME": "127.0.0.1",
               "SERVER_PORT": "8000", "HTTP_HOST": "127.0.0.1", "wsgi.url_scheme": "http", "REMOTE_ADDR": "127.0.0.1",
               "wsgi.input": io.BytesIO(b""), "wsgi.errors": sys.stderr, "SERVER_PROTOCOL": "HTTP/1.1"}
    if auth:
        environ["HTTP_AUTHORIZATION"] = f"Token {token}"
    status = []
    body = b"".join(handler(environ, lambda code, headers, exc_info=None: status.append(code)))
    assert status[0].startswith("200"), (path, status, body[:300])
    return json.loads(body)

app = get("/apps/v3/applications/?slug=app-00042")["results"][0]["uuid"]
env = get(f"/apps/v3/environments/?application={app}&slug=live")["results"][0]["uuid"]
latest = f"/apps/v3/backups/?environment={env}&success=SUCCESS&page_size=1"
requests = {
    "API root (no token)": ("/apps/v3/", False),
    "application by slug": ("/apps/v3/applications/?slug=app-00042", True),
    "environments of an application": (f"/apps/v3/environments/?application={app}", True),
    "latest successful backup": (latest, True),
    "parts of a backup": (f"/apps/v3/service-instance-backups/?backup={get(latest)['results'][0]['uuid']}", True),
}
"""  # a WSGI handler in process, `get(path, auth)`, and the requests measured: {name: (path, auth)}

REPLAY = """
from django.db.backends import utils as _utils

class _Replayed:  # what Django reads a result from: rows read once, handed out again
    def __init__(self, rows, description):
        self.rows, self.description, self.rowcount = list(rows), description, len(rows)

    def fetchone(self):
        return self.rows.pop(0) if self.rows else None

    def fetchmany(self, size=1):
        taken, self.rows = self.rows[:size], self.rows[size:]
        return taken

    def fetchall(self):
        taken, self.rows = self.rows, []
        return taken

    def close(self):
        pass

_read, _execute = {}, _utils.CursorWrapper._execute

def _replaying(self, sql, params, *rest):
    key = (sql, repr(params))
    if key not in _read:
        result = _execute(self, sql, params, *rest)
        if self.cursor.description is None:  # a write: nothing to replay
            return result
        _read[key] = (self.cursor.fetchall(), self.cursor.description)
    elif sys.argv[2] == "ping":
        self.cursor.execute("SELECT 1")
        self.cursor.fetchall()
    self.cursor = _Replayed(*_read[key])

if sys.argv[2] in ("replayed", "ping"):
    _utils.CursorWrapper._execute = _replaying
"""  # --round-trips replayed|ping: each statement's rows read once, then handed out from memory

ALONE = """
from django.db import connection

def statements_of(path, auth):  # (sql, params) of each statement the request runs
    seen = []
    def capture(execute, sql, params, many, context):
        seen.append((sql, params))
        return execute(sql, params, many, context)
    with connection.execute_wrapper(capture):
        get(path, auth)
    return seen

def run_alone(statements):  # each through Django's cursor, its rows read, nothing else of the request
    for sql, params in statements:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            cursor.fetchall()

measured = {name: (lambda path=path, auth=auth: get(path, auth)) for name, (path, auth) in requests.items()}
if sys.argv[2] == "alone":
    measured = {name: (lambda s=statements_of(*request): run_alone(s)) for name, request in requests.items()}
"""  # --round-trips alone: a request's statements without the request

MEASURE = (
    REQUESTS
    + REPLAY
    + ALONE
    + """
for run in measured.values():
    for _ in range(100):
        run()
blocks = {name: [] for name in requests}
for _ in range(7):
    for name, run in measured.items():
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(200):
            run()
        blocks[name].append(((time.process_time() - cpu) / 0.2, (time.perf_counter() - wall) / 0.2))
print(json.dumps({name: [min(b[0] for b in runs), min(b[1] for b in runs)] for name, runs in blocks.items()}))
"""
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tree", action="append", type=Path, help="a checkout to measure (repeat to compare)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--round-trips",
        choices=["real", "replayed", "ping", "alone"],
        default="real",
        help="replayed: each statement runs once, then its rows are handed out from memory (what a request costs"
        " without its database round trips); ping: the same plus a `SELECT 1` round trip in each one's place;"
        " alone: the request's statements only, run through Django's cursor (what they cost on their own)",
    )
    args = parser.parse_args()
    trees = [tree.resolve() for tree in (args.tree or [Path(__file__).resolve().parents[1]])]

    settings = {**RATE_LIMITS["off"], "DJANGO_SETTINGS_MODULE": "appcontrol.settings"}
    prepared = [seeded(tree, index, settings) for index, tree in enumerate(trees)]

    results: dict[tuple, list] = {}
    for round_number in range(args.rounds):
        for tree, env, token in prepared if round_number % 2 == 0 else list(reversed(prepared)):
            command = [sys.executable, "-c", MEASURE, token, args.round_trips]
            measured = subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout
            for name, figures in json.loads(measured.strip().splitlines()[-1]).items():
                results.setdefault((str(tree), name), []).append(figures)

    database = "PostgreSQL" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "SQLite"
    trips = "" if args.round_trips == "real" else f", database round trips {args.round_trips}"
    print(f"{database}, in process{trips}, ms per request: lowest of 7 blocks of 200, median of {args.rounds} rounds")
    for tree, _, _ in prepared:
        print(f"\n{tree}\n{'request':34} {'CPU ms':>8} {'wall ms':>8}")
        for (run_tree, name), runs in results.items():
            if run_tree == str(tree):
                cpu, wall = (statistics.median(r[i] for r in runs) for i in range(2))
                print(f"{name:34} {cpu:8.3f} {wall:8.3f}")


if __name__ == "__main__":
    main()

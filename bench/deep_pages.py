"""Seconds per page, first to last, of the two biggest lists: /backups/ and /service-instance-backups/.

    .venv/bin/python bench/deep_pages.py [--backups 100000]                         # SQLite
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/appcontrol_bench \\
        .venv/bin/python bench/deep_pages.py                                        # PostgreSQL (empty database)

Seeds the data of latest_backup.py (two parts per backup, 20 environments), runs one scheduler round (SQLite's
planner statistics, as a serving instance does at start; on PostgreSQL it runs ANALYZE itself), then times
each page in process (no HTTP) with the database queries it ran.
"""

import argparse

from harness import appcontrol, fresh_environment, seed
from latest_backup import SEED

TIMING = """
import time
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

client = APIClient(SERVER_NAME="localhost")
client.credentials(HTTP_AUTHORIZATION="Token {token}")
for path in ("/apps/v3/backups/", "/apps/v3/service-instance-backups/"):
    last = -(-client.get(path).json()["count"] // 100)
    for page in (1, (last + 1) // 2, last):
        client.get(path, {{"page": page}})  # warm the cache, as a page read twice would be
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as queries:
            assert client.get(path, {{"page": page}}).status_code == 200
        seconds = time.perf_counter() - started
        print(f"{{path:36}} page {{page:5d}} of {{last}}: {{seconds:.3f}} s, {{len(queries)}} queries")
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backups", type=int, default=100_000)
    args = parser.parse_args()
    env = fresh_environment()
    token = seed(env, SEED.format(apps=10, backups=args.backups))
    appcontrol(env, "scheduler", "--once")
    if env.get("DATABASE_URL", "").startswith("postgres"):
        appcontrol(env, "shell", code="from django.db import connection; connection.cursor().execute('ANALYZE')")
    print(appcontrol(env, "shell", "-v0", code=TIMING.format(token=token)), end="")


if __name__ == "__main__":
    main()

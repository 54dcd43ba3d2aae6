"""Seconds per page, first to last, of the two biggest lists: /backups/ and /service-instance-backups/.

    .venv/bin/python bench/deep_pages.py [--backups 100000]                         # SQLite
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/appcontrol_bench \\
        .venv/bin/python bench/deep_pages.py                                        # PostgreSQL (empty database)

Seeds the data of latest_backup.py (two parts per backup, 20 environments), runs one scheduler round (SQLite's
planner statistics, as a serving instance does at start; on PostgreSQL it runs ANALYZE itself), then times
the first, middle and last page in process (no HTTP) with the database queries each ran: as `?page=N`
(rows skipped) and as reached by following `next` from the page before (a cursor: rows after a key).
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


def timed(url):
    client.get(url)  # warm the cache, as a page read twice would be
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content[:200]
    return time.perf_counter() - started, len(queries), response.json()


for path in ("/apps/v3/backups/", "/apps/v3/service-instance-backups/"):
    last = -(-client.get(path).json()["count"] // 100)
    for page in (1, (last + 1) // 2, last):
        seconds, queries, body = timed(f"{{path}}?page={{page}}")
        print(f"{{path:36}} ?page={{page:<6d}} of {{last}}: {{seconds:.3f}} s, {{queries}} queries")
        if page > 1:
            # The same page reached by following `next` from the page before it: a cursor page.
            _, _, before = timed(f"{{path}}?page={{page - 1}}")
            seconds, queries, body = timed(before["next"])
            print(f"{{path:36}} next -> {{page:<6d}} of {{last}}: {{seconds:.3f}} s, {{queries}} queries")
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

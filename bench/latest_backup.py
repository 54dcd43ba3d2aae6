"""The seed's question — when was the latest backup of one environment taken? — with 100 000 backups.

    .venv/bin/python bench/latest_backup.py [--backups 100000] [--environments 20]

Seeds a fresh server (SQLite, `appcontrol serve` without worker) with `--backups` completed backups spread
over `--environments` environments, two parts each, then answers the question twice, counting requests:
  1. the seed's way: read every page of /backups/ to find the environment's newest successful backup,
     then page through /service-instance-backups/ until its parts are found;
  2. appctl: `client.backups.latest(application=…, environment=…)`, which lets the server filter.
"""

import argparse
import time

import appctl
import httpx
from harness import appcontrol, fresh_environment, seed, served

SEED = """
import random
from datetime import timedelta
from django.utils import timezone
from appcontrol.accounts.models import Organisation, Role
from appcontrol.accounts.services import account_create, token_create
from appcontrol.applications.services import application_create
from appcontrol.backups.models import Backup, ServiceInstanceBackup
from appcontrol.services.models import Service, ServiceInstance

random.seed(7)
org = Organisation.objects.create(slug="bench", name="Bench", environment_limit=0)  # 0: no environment limit
user = account_create(email="bench@example.com", api_only=True, organisation=org, role=Role.MEMBER)
environments = []
for n in range({apps}):
    app = application_create(organisation=org, slug=f"app-{{n:03d}}", name=f"App {{n}}")
    environments += list(app.environments.all())
database, storage = Service.objects.get(engine="sqlite"), Service.objects.get(engine="filesystem")
instances = {{}}
for env in environments:
    instances[env.pk] = [
        ServiceInstance.objects.create(environment=env, service=s, type=s.type, service_status="ATTACHED")
        for s in (database, storage)
    ]
now = timezone.now()
backups = [
    Backup(environment=random.choice(environments), state="COMPLETED",
           success=random.choice(["SUCCESS", "SUCCESS", "SUCCESS", "FAILURE"]),
           created_at=now - timedelta(minutes=n))
    for n in range({backups})
]
Backup.objects.bulk_create(backups, batch_size=5000)
parts = [
    ServiceInstanceBackup(backup=b, environment_id=b.environment_id, service_instance=i, service_type=i.type,
                          engine="sqlite", size=1000, taken_at=b.created_at, ended_at=b.created_at,
                          queued_at=b.created_at)
    for b in backups for i in instances[b.environment_id]
]
ServiceInstanceBackup.objects.bulk_create(parts, batch_size=5000)
print(token_create(user=user, name="bench")[1])
"""


def seed_way(base: str, token: str, app_slug: str, env_slug: str) -> tuple[str, int, dict[str, list[float]]]:
    """The seed's chain, scanning pages because the API is not asked to filter backups; also returns
    the seconds each page of each list took."""
    requests = 0
    page_seconds: dict[str, list[float]] = {}
    with httpx.Client(base_url=base, headers={"authorization": f"Token {token}"}, timeout=60) as http:

        def get(url, **params):
            nonlocal requests
            requests += 1
            started = time.perf_counter()
            body = http.get(url, params=params or None).json()
            page_seconds.setdefault(url.split("?")[0].rstrip("/").rsplit("/", 1)[-1], []).append(
                time.perf_counter() - started
            )
            return body

        app = get("/apps/v3/applications/", slug=app_slug)["results"][0]["uuid"]
        env = next(e for e in get("/apps/v3/environments/", application=app)["results"] if e["slug"] == env_slug)
        newest, url = None, "/apps/v3/backups/"
        while url:
            page = get(url)
            for backup in page["results"]:
                if backup["environment"] == env["uuid"] and backup["success"] == "SUCCESS":
                    if newest is None or backup["created_at"] > newest["created_at"]:
                        newest = backup
            url = page["next"]
        wanted, found, url = set(newest["service_instance_backups"]), [], "/apps/v3/service-instance-backups/"
        while url and len(found) < len(wanted):
            page = get(url)
            found += [part for part in page["results"] if part["uuid"] in wanted]
            url = page["next"]
        return newest["uuid"], requests, page_seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backups", type=int, default=100_000)
    parser.add_argument("--environments", type=int, default=20)
    args = parser.parse_args()
    env = fresh_environment(sqlite=True)
    started = time.perf_counter()
    token = seed(env, SEED.format(apps=max(args.environments // 2, 1), backups=args.backups))
    print(f"seeded {args.backups} backups ({2 * args.backups} parts) in {time.perf_counter() - started:.0f} s")
    # One scheduler round, as a serving instance runs at start: it gives SQLite its planner statistics.
    appcontrol(env, "scheduler", "--once")
    with served(env) as base:
        started = time.perf_counter()
        with appctl.Client(base, token=token) as client:
            backup, parts = client.backups.latest(application="app-003", environment="live")
            ours_requests = client.transport.request_count
        ours_seconds = time.perf_counter() - started
        started = time.perf_counter()
        seed_backup, seed_requests, page_seconds = seed_way(base, token, "app-003", "live")
        seed_seconds = time.perf_counter() - started
    assert seed_backup == backup.uuid, (seed_backup, backup.uuid)
    print(f"{'':40} {'requests':>9} {'seconds':>8}")
    print(f"{'seed: scan every page (page size 100)':40} {seed_requests:9d} {seed_seconds:8.2f}")
    print(f"{'appctl backups.latest (server filters)':40} {ours_requests:9d} {ours_seconds:8.2f}")
    print(f"same answer: backup {backup.uuid}, parts {[p.service_type for p, _ in parts]}")
    for name, seconds in page_seconds.items():
        if len(seconds) > 1:
            first, middle, last = seconds[0], seconds[len(seconds) // 2], seconds[-1]
            print(f"{name}: {len(seconds)} pages, first {first:.3f} s, middle {middle:.3f} s, last {last:.3f} s")


if __name__ == "__main__":
    main()

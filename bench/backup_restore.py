"""Backup and restore of a PostgreSQL database through appcontrol, against plain pg_dump/pg_restore.

    APPCONTROL_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/backup_restore.py [--size-mb 1024] [--small-mb 100]

One run: provisions a database service instance, fills it to about --size-mb, then times
  1. `pg_dump -Fc` to a local file (defaults: gzip level 6) and `pg_restore` from it into a fresh database;
  2. appcontrol's backup job (pg_dump streamed into artifact storage while hashing) and restore job
     (pg_restore | script check | psql in one transaction, confined), each in a child process whose peak
     memory is read back;
and repeats the appcontrol part for a --small-mb database to show that memory does not grow with size.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

SETUP = """
import os, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "appcontrol.settings")
django.setup()
"""

CHILD = (
    SETUP
    + """
import resource, sys, time
from appcontrol.backups.tasks import BackupRunner, RestoreRunner
kind, pk = sys.argv[1], sys.argv[2]
started = time.perf_counter()
(BackupRunner() if kind == "backup" else RestoreRunner()).execute(pk)
print(time.perf_counter() - started, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""
)


def child(kind: str, pk: str) -> tuple[float, float]:
    """Run one job in a fresh process; return (seconds, peak RSS in MiB) of that process."""
    output = subprocess.run([sys.executable, "-c", CHILD, kind, pk], check=True, capture_output=True, text=True)
    seconds, rss_kib = output.stdout.split()[-2:]
    return float(seconds), int(rss_kib) / 1024


def timed(argv: list[str], env: dict) -> float:
    started = time.perf_counter()
    subprocess.run(argv, check=True, env=env, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--small-mb", type=int, default=100)
    args = parser.parse_args()
    if not os.environ.get("APPCONTROL_POSTGRES_URL"):
        sys.exit("set APPCONTROL_POSTGRES_URL to a PostgreSQL DSN allowed to create databases and roles")
    os.environ["APPCONTROL_DATA_DIR"] = tempfile.mkdtemp(prefix="appcontrol-bench-")
    subprocess.run([sys.executable, "-m", "appcontrol", "migrate", "-v0"], check=True)
    exec(SETUP, {})  # noqa: S102 - a fixed snippet: set up Django in this process too

    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    from appcontrol.accounts.models import Organisation
    from appcontrol.applications.models import EnvironmentVariable
    from appcontrol.applications.services import application_create
    from appcontrol.backups.models import Backup, ServiceInstanceBackup
    from appcontrol.backups.services import backup_create, backup_restore_create
    from appcontrol.services.engines import engine_for
    from appcontrol.services.models import Service, ServiceInstance
    from appcontrol.services.services import service_instance_provision

    organisation = Organisation.objects.create(slug="bench", name="Bench")
    app = application_create(organisation=organisation, slug="bench", name="Bench")
    admin = conninfo_to_dict(os.environ["APPCONTROL_POSTGRES_URL"])
    tool_env = {**os.environ, "PGHOST": admin.get("host", "localhost"), "PGPORT": str(admin.get("port", 5432)),
                "PGUSER": admin.get("user", "postgres")}  # fmt: skip
    if admin.get("password"):
        tool_env["PGPASSWORD"] = admin["password"]  # a benchmark on a throw-away cluster

    def provisioned(environment) -> ServiceInstance:
        instance = ServiceInstance.objects.create(
            environment=environment, service=Service.objects.get(engine="postgres"), type="DATABASE"
        )
        service_instance_provision(instance=instance)
        return instance

    def fill(instance, megabytes: int) -> int:
        url = EnvironmentVariable.objects.get(service_instance=instance).value
        rows = megabytes * 1024 * 1024 // 270  # about 270 bytes per row on disk, with the index
        with psycopg.connect(url) as conn:
            # Text that compresses roughly like application data (repeating words, some randomness).
            conn.execute(
                "create table events as select g as id, now() - g * interval '1 second' as at, "
                "md5(g::text) as key, repeat('lorem ipsum dolor sit amet ', 3) || md5((g * 7)::text) as body "
                f"from generate_series(1, {rows}) g"
            )
            conn.execute("create index on events (key)")
            return conn.execute("select pg_database_size(current_database())").fetchone()[0]

    def appcontrol_round(instance) -> dict:
        backup = backup_create(environment=instance.environment, service_instances=[instance])
        backup_seconds, backup_rss = child("backup", str(backup.pk))
        backup = Backup.objects.get(pk=backup.pk)
        sib = ServiceInstanceBackup.objects.get(backup=backup)
        assert backup.success == "SUCCESS", sib.errors
        restore = backup_restore_create(backup=backup, items=[(sib, None)])
        restore_seconds, restore_rss = child("restore", str(restore.pk))
        restore.refresh_from_db()
        assert restore.success == "SUCCESS", [i.errors for i in restore.service_instance_restores.all()]
        return {"backup": backup_seconds, "backup_rss": backup_rss, "restore": restore_seconds,
                "restore_rss": restore_rss, "artifact": sib.size}  # fmt: skip

    live, test = app.environments.get(slug="live"), app.environments.get(slug="test")
    big, small = provisioned(live), provisioned(test)
    try:
        big_size = fill(big, args.size_mb)
        small_size = fill(small, args.small_mb)
        with tempfile.TemporaryDirectory() as scratch:
            dump_file = os.path.join(scratch, "plain.dump")
            dump_seconds = timed(
                ["pg_dump", "-Fc", "--no-owner", "--no-privileges", "-f", dump_file, "-d", big.resource["database"]],
                tool_env,
            )
            dump_size = os.path.getsize(dump_file)
            subprocess.run(["createdb", "bench_plain_restore"], check=True, env=tool_env)
            try:
                restore_seconds = timed(
                    ["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "-d", "bench_plain_restore",
                     dump_file],
                    tool_env,
                )  # fmt: skip
            finally:
                subprocess.run(["dropdb", "bench_plain_restore"], check=True, env=tool_env)
        ours = appcontrol_round(big)
        ours_small = appcontrol_round(small)
    finally:
        for instance in (big, small):
            engine_for("postgres").deprovision(instance)

    mib = 1024 * 1024
    version = subprocess.run(["pg_dump", "--version"], capture_output=True, text=True).stdout.strip()
    print(f"database {big_size / mib:.0f} MiB (small: {small_size / mib:.0f} MiB); {version}")
    print(f"{'':44} {'seconds':>8} {'MiB/s':>7} {'artifact MiB':>13} {'peak RSS MiB':>13}")
    rows = [
        ("pg_dump -Fc to a local file", dump_seconds, dump_size, None),
        ("appcontrol backup (pg_dump -Z1, streamed)", ours["backup"], ours["artifact"], ours["backup_rss"]),
        ("pg_restore from the local file", restore_seconds, dump_size, None),
        ("appcontrol restore (one transaction)", ours["restore"], ours["artifact"], ours["restore_rss"]),
        (f"appcontrol backup, {small_size / mib:.0f} MiB database", ours_small["backup"], ours_small["artifact"],
         ours_small["backup_rss"]),
        (f"appcontrol restore, {small_size / mib:.0f} MiB database", ours_small["restore"], ours_small["artifact"],
         ours_small["restore_rss"]),
    ]  # fmt: skip
    for name, seconds, artifact, rss in rows:
        rate = big_size / mib / seconds if "MiB database" not in name else small_size / mib / seconds
        peak = f"{rss:13.0f}" if rss is not None else f"{'-':>13}"
        print(f"{name:44} {seconds:8.1f} {rate:7.1f} {artifact / mib:13.0f} {peak}")


if __name__ == "__main__":
    main()

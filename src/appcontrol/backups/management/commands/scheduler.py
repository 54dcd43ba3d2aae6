"""`appcontrol scheduler`: the periodic duties beside the worker (started by `appcontrol serve`)."""

import logging
import signal
import threading
import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections

from appcontrol.backups.schedules import schedules_run
from appcontrol.backups.services import backups_expire
from appcontrol.core.jobs import jobs_reap
from appcontrol.core.planner_statistics import planner_statistics_refresh

logger = logging.getLogger(__name__)

STATISTICS_EVERY_SECONDS = 3600


def tick() -> dict[str, int]:
    return {"reaped": jobs_reap(), "expired": backups_expire(), "scheduled": schedules_run()}


class Command(BaseCommand):
    help = (
        "Run the periodic duties: fail jobs whose worker died (heartbeat), delete backups past "
        "scheduled_for_deletion_at, start scheduled backups and apply their retention; on SQLite, refresh "
        "the query planner's statistics hourly."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--interval",
            type=float,
            default=settings.APPCONTROL_SCHEDULER_INTERVAL_SECONDS,
            help="Seconds between rounds (default %(default)s, or APPCONTROL_SCHEDULER_INTERVAL_SECONDS).",
        )
        parser.add_argument("--once", action="store_true", help="Run one round and exit.")

    def handle(self, *args, interval, once, **options):
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        statistics_due = time.monotonic()
        while True:
            try:
                if time.monotonic() >= statistics_due:
                    statistics_due = time.monotonic() + STATISTICS_EVERY_SECONDS
                    planner_statistics_refresh()
                counts = tick()
            except Exception:  # noqa: BLE001 - a bad round must not stop the next one
                logger.exception("Scheduler round failed")
            else:
                if any(counts.values()) or once:
                    self.stdout.write(", ".join(f"{name} {count}" for name, count in counts.items()))
            if once or stop.wait(interval):
                return
            close_old_connections()  # a long-running loop must not keep a dropped connection

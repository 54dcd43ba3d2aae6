"""`appcontrol scheduler`: the periodic duties beside the worker (started by `appcontrol serve`)."""

import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections

from appcontrol.core.periodic import DUTIES, round_run


class Command(BaseCommand):
    help = (
        "Run the periodic duties the parts of appcontrol register: fail jobs whose worker died or that ran "
        "past their time limit, delete backups past scheduled_for_deletion_at, start scheduled backups and "
        "apply their retention; on SQLite, refresh the query planner's statistics hourly."
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
        while True:
            done = round_run()
            shown = {name: count for name, count in done.items() if not DUTIES[name].every_seconds}
            if any(shown.values()) or once:
                self.stdout.write(", ".join(f"{name} {count}" for name, count in shown.items()))
            if once or stop.wait(interval):
                return
            close_old_connections()  # a long-running loop must not keep a dropped connection

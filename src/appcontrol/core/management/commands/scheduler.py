"""`appcontrol scheduler`: the periodic duties beside the worker (started by `appcontrol serve`)."""

from django.conf import settings
from django.core.management.base import BaseCommand

from appcontrol.core.periodic import DUTIES, round_run, run_rounds


class Command(BaseCommand):
    help = (
        "Run the periodic duties the parts of appcontrol register: fail jobs whose worker died or that ran "
        "past their time limit, delete backups past scheduled_for_deletion_at, start scheduled backups and "
        "apply their retention, delete environment log lines past theirs; on SQLite, refresh the query "
        "planner's statistics hourly."
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
        def round_once():
            done = round_run()
            shown = {name: count for name, count in done.items() if not DUTIES[name].every_seconds}
            if any(shown.values()) or once:
                self.stdout.write(", ".join(f"{name} {count}" for name, count in shown.items()))

        run_rounds(round_once, interval=interval, once=once)

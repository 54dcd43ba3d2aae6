"""`appcontrol reconciler`: keep running releases and routes as the database says (started by `serve`)."""

from django.core.management.base import BaseCommand

from appcontrol.core.periodic import run_rounds
from appcontrol.deployments.reconciler import reconcile


class Command(BaseCommand):
    help = (
        "Compare what should run with what runs, and fix the difference: load the router's routes (after "
        "Caddy or appcontrol restarted), restart release web processes that stopped, remove containers no "
        "release uses. Containers that crash are restarted by the engine itself (restart unless-stopped)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=5.0, help="Seconds between rounds (default %(default)s).")
        parser.add_argument("--once", action="store_true", help="Run one round and exit.")

    def handle(self, *args, interval, once, **options):
        def round_once():
            for change in reconcile():
                self.stdout.write(change)

        run_rounds(round_once, interval=interval, once=once)

"""`appcontrol reconciler`: keep running releases and routes as the database says (started by `serve`)."""

import signal
import threading

from django.core.management.base import BaseCommand
from django.db import close_old_connections

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
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        while True:
            for change in reconcile():
                self.stdout.write(change)
            if once or stop.wait(interval):
                return
            close_old_connections()

"""`appcontrol serve`: migrate, then run the web server and the background worker together."""

import signal
import subprocess
import sys
import time

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Run appcontrol: apply migrations, start the web server (gunicorn) and the background worker, "
        "and stop both on Ctrl-C or SIGTERM. Uses SQLite under APPCONTROL_DATA_DIR unless DATABASE_URL "
        "is set."
    )

    def add_arguments(self, parser):
        parser.add_argument("--bind", default="127.0.0.1:8000", help="HOST:PORT to listen on (default %(default)s).")
        parser.add_argument("--workers", type=int, default=2, help="Web server processes (default %(default)s).")
        parser.add_argument("--threads", type=int, default=4, help="Threads per process (default %(default)s).")
        parser.add_argument(
            "--no-worker", action="store_true", help="Do not start the background worker and scheduler."
        )
        parser.add_argument("--no-migrate", action="store_true", help="Do not apply migrations first.")

    def handle(self, *args, bind, workers, threads, no_worker, no_migrate, **options):
        if not no_migrate:
            call_command("migrate", interactive=False, verbosity=0)
        commands = {
            "web server": [
                sys.executable,
                "-m",
                "gunicorn",
                "appcontrol.wsgi:application",
                "--bind",
                bind,
                "--worker-class",
                "gthread",
                "--workers",
                str(workers),
                "--threads",
                str(threads),
                "--access-logfile",
                "-",
                # Signed download and upload links must not be written to the access log.
                "--logger-class",
                "appcontrol.core.log_redaction.AccessLogger",
                "--graceful-timeout",
                "10",
                # No control socket in the home directory of whoever runs the server.
                "--no-control-socket",
                # The longest request line gunicorn allows: long filtered list URLs; longer ones get a 414.
                "--limit-request-line",
                "8190",
                # Clients that poll every few seconds (divio-cli: 2 s) reuse their connection; with
                # gunicorn's 2 s default the server closes it just as the next request goes out.
                "--keep-alive",
                "75",
            ],
        }
        if not no_worker:
            commands["worker"] = [sys.executable, "-m", "appcontrol", "db_worker", "--no-startup-delay"]
            commands["scheduler"] = [sys.executable, "-m", "appcontrol", "scheduler"]
        processes = {name: subprocess.Popen(argv) for name, argv in commands.items()}
        self.stdout.write(f"appcontrol is listening on http://{bind}/ (Ctrl-C stops it)")

        stopping = False

        def stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        failed = None
        while not stopping and failed is None:
            for name, process in processes.items():
                if process.poll() is None:
                    continue
                if name == "web server":
                    failed = name
                    break
                # A worker or scheduler that dies is restarted; jobs it was running are failed by
                # the scheduler's reaper once their heartbeat goes stale.
                self.stderr.write(f"The {name} stopped (exit code {process.returncode}); restarting it.")
                time.sleep(1)
                processes[name] = subprocess.Popen(commands[name])
            time.sleep(0.2)
        for process in processes.values():
            if process.poll() is None:
                process.terminate()
        for process in processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        if failed is not None:
            raise CommandError(f"The {failed} stopped unexpectedly (exit code {processes[failed].returncode}).")

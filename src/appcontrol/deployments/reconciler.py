"""Make what runs match what should run: the router serves every environment's release, each release's
web process runs, and nothing else of ours does; collect what the releases printed. Safe to run at any time
and as often as wanted."""

import logging

from django.conf import settings

from appcontrol.core.ids import encode_id
from appcontrol.runtime.driver import Driver
from appcontrol.runtime.specs import DEPLOYMENT_LABEL, RuntimeFailure

from . import logs, routing
from .engine import driver as configured_driver
from .models import Deployment, Release
from .pipeline import STOP_GRACE_SECONDS, process_spec

logger = logging.getLogger(__name__)


def reconcile() -> list[str]:
    """One round; returns what it changed, a line each (nothing when all was as it should be)."""
    changes: list[str] = []
    if settings.APPCONTROL_ROUTER != "off":
        try:
            with routing.locked():
                if routing.routes_apply():
                    changes.append("loaded the router's routes")
        except RuntimeFailure as error:
            logger.warning("The router cannot be configured yet: %s", error)
    if settings.APPCONTROL_DOCKER_HOST:
        try:
            engine = configured_driver()
            changes += processes_reconcile(engine)
            logs.collect_all(engine)
        except RuntimeFailure as error:
            logger.warning("The container engine cannot be reconciled: %s", error)
    return changes


def processes_reconcile(engine: Driver) -> list[str]:
    """Under the router's lock: a switch commits its new release either before this reads the releases or
    after it is done, never between (it would take the new web process for one no release uses)."""
    with routing.locked():
        return _processes_reconcile(engine)


def _processes_reconcile(engine: Driver) -> list[str]:
    changes = []
    releases = {
        encode_id(release.deployment_id): release.deployment
        for release in Release.objects.select_related("deployment__build")
    }
    # A running deployment's own processes (its release commands, its new web process) are its business.
    running = {encode_id(pk) for pk in Deployment.objects.filter(ended_at__isnull=True).values_list("pk", flat=True)}
    for process in engine.list():
        owner = process.labels.get(DEPLOYMENT_LABEL, "")
        if owner in running:
            continue
        deployment = releases.get(owner)
        if deployment is None or process.name != deployment.container:
            engine.stop(process.name, grace_seconds=STOP_GRACE_SECONDS)
            changes.append(f"removed {process.name}, which no release uses")
    for deployment in releases.values():
        state = engine.state(deployment.container)
        if state is not None and state.state not in {"exited", "dead", "created"}:
            continue
        if deployment.build is None or not engine.image_exists(deployment.build.image):
            logger.error("Cannot restart %s: its image is gone; deploy the environment again", deployment.container)
            continue
        engine.start(process_spec(deployment, deployment.build.image, "web", deployment.environment_variables))
        changes.append(f"restarted {deployment.container}, which had stopped")
    return changes

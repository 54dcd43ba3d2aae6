"""The container engine deployments use, from the operator's settings."""

from django.conf import settings

from appcontrol.runtime.docker_engine import DockerDriver
from appcontrol.runtime.driver import Driver
from appcontrol.runtime.specs import RuntimeFailure


class EngineNotConfigured(RuntimeFailure):
    pass


def driver() -> Driver:
    host = settings.APPCONTROL_DOCKER_HOST
    if not host:
        raise EngineNotConfigured(
            "Deployments need a container engine, and none is configured on this server: the operator sets "
            "APPCONTROL_DOCKER_HOST (or DOCKER_HOST) to a Docker Engine socket, e.g. unix:///var/run/docker.sock."
        )
    if settings.APPCONTROL_RUNTIME_DRIVER == "swarm":
        from appcontrol.runtime.swarm_engine import SwarmDriver

        engine: Driver = SwarmDriver(host)
    else:
        engine = DockerDriver(host)
    engine.ping()
    return engine

"""The `docker` driver: releases as containers on one host, through the Docker Engine API.

Containers use the host's network (the engine runs with `--bridge=none --iptables=false`), so each web
process listens on its own loopback `PORT`. Tenant code runs without capabilities, without privilege
escalation, with a memory and process limit; nothing of the host is mounted into it.
"""

import threading
import time
from collections.abc import Iterator

import docker
import requests
from docker.errors import APIError, DockerException, ImageNotFound, NotFound

from .driver import Output
from .specs import MANAGED_LABEL, BuildSpec, Limits, LogLine, ProcessSpec, Running, RuntimeFailure

# Output a container may keep in the engine's own log files, per container.
LOG_OPTIONS = {"max-size": "10m", "max-file": "3"}
TIMED_OUT = 124
SWARM_SERVICE_LABEL = "com.docker.swarm.service.id"


def container_options(spec: ProcessSpec) -> dict:
    """What every container of a release gets, web process or one-off."""
    return {
        "image": spec.image,
        "command": spec.command,
        "name": spec.name,
        "environment": spec.environment,
        "labels": {MANAGED_LABEL: "1", **spec.labels},
        "network_mode": "host",
        **limit_options(spec.limits),
        "log_config": {"Type": "json-file", "Config": LOG_OPTIONS},
    }


def limit_options(limits: Limits) -> dict:
    return {
        "mem_limit": limits.memory_bytes,
        "memswap_limit": limits.memory_bytes,
        "pids_limit": limits.pids,
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges"],
    }


def parse_log(raw: bytes, stream: str) -> Iterator[LogLine]:
    for line in raw.decode("utf-8", "replace").splitlines():
        timestamp, _, message = line.partition(" ")
        yield LogLine(timestamp=timestamp, stream=stream, message=message)


class DockerDriver:
    name = "docker"

    def __init__(self, base_url: str, timeout: float = 60):
        try:
            self.client = docker.DockerClient(base_url=base_url, timeout=int(timeout))
        except DockerException as error:
            raise RuntimeFailure(f"Cannot reach the Docker Engine at {base_url}: {error}") from error

    def ping(self) -> None:
        try:
            self.client.ping()
        except (DockerException, requests.RequestException) as error:
            raise RuntimeFailure(f"The Docker Engine does not answer: {error}") from error

    def image_exists(self, tag: str) -> bool:
        try:
            self.client.images.get(tag)
        except ImageNotFound:
            return False
        return True

    def build(self, spec: BuildSpec, output: Output) -> None:
        """Build from a ready tar: the SDK never walks the tenant's tree nor reads its `.dockerignore` in this
        process (its patterns become regular expressions that can take forever)."""
        deadline = time.monotonic() + spec.timeout
        try:
            with spec.context_archive.open("rb") as archive:
                stream = self.client.api.build(
                    fileobj=archive,
                    custom_context=True,
                    tag=spec.tag,
                    labels={MANAGED_LABEL: "1", **spec.labels},
                    network_mode=spec.network,
                    container_limits={"memory": spec.memory_bytes, "memswap": spec.memory_bytes},
                    rm=True,
                    forcerm=True,
                    pull=False,
                    decode=True,
                    timeout=max(int(spec.timeout), 1),
                    use_config_proxy=False,  # the operator's proxy settings are not the tenant's to see
                )
                for chunk in stream:
                    for line in chunk.get("stream", "").splitlines():
                        output(line)
                    if "error" in chunk:
                        raise RuntimeFailure(f"The build failed: {chunk['error'].strip()}")
                    if time.monotonic() > deadline:
                        stream.close()  # the engine cancels a build whose client went away
                        raise RuntimeFailure(f"The build took longer than its time limit ({spec.timeout:.0f} s).")
        except (APIError, requests.RequestException) as error:
            raise RuntimeFailure(f"The build failed: {_reason(error)}") from error
        if not self.image_exists(spec.tag):
            raise RuntimeFailure("The build ended without producing an image.")

    def run_once(self, spec: ProcessSpec, timeout: float, output: Output) -> int:
        self.stop(spec.name, grace_seconds=0)  # a one-off left by a crashed worker
        try:
            container = self.client.containers.create(**container_options(spec))
            try:
                container.start()
                reader = threading.Thread(target=self._follow, args=(container, output), daemon=True)
                reader.start()
                try:
                    result = container.wait(timeout=max(timeout, 1))
                except requests.RequestException:
                    container.kill()
                    return TIMED_OUT
                finally:
                    reader.join(timeout=5)
                return int(result.get("StatusCode", 1))
            finally:
                container.remove(force=True)
        except APIError as error:
            raise RuntimeFailure(f"Cannot run the command: {_reason(error)}") from error

    @staticmethod
    def _follow(container, output: Output) -> None:
        try:
            for raw in container.logs(stream=True, follow=True):
                for line in raw.decode("utf-8", "replace").splitlines():
                    output(line)
        except (APIError, requests.RequestException):
            pass  # the container is gone: its exit code tells the rest

    def start(self, spec: ProcessSpec) -> None:
        self.stop(spec.name, grace_seconds=0)
        try:
            self.client.containers.run(
                detach=True, restart_policy={"Name": "unless-stopped"}, **container_options(spec)
            )
        except APIError as error:
            raise RuntimeFailure(f"Cannot start the web process: {_reason(error)}") from error

    def state(self, name: str) -> Running | None:
        try:
            container = self.client.containers.get(name)
        except NotFound:
            return None
        return _running(container)

    def stop(self, name: str, grace_seconds: float) -> None:
        try:
            container = self.client.containers.get(name)
            if grace_seconds > 0 and container.status == "running":
                container.stop(timeout=int(grace_seconds))
            container.remove(force=True)
        except NotFound:
            return
        except APIError as error:
            if error.status_code != 409:  # removal already in progress
                raise RuntimeFailure(f"Cannot stop {name}: {_reason(error)}") from error

    def logs(self, name: str, since: float | None = None, tail: int | None = None) -> Iterator[LogLine]:
        try:
            container = self.client.containers.get(name)
            options = {"timestamps": True, "since": since, "tail": tail if tail is not None else "all"}
            out = container.logs(stdout=True, stderr=False, **options)
            err = container.logs(stdout=False, stderr=True, **options)
        except NotFound:
            return iter(())
        lines = [*parse_log(out, "stdout"), *parse_log(err, "stderr")]
        return iter(sorted(lines, key=lambda line: line.timestamp))

    def list(self) -> list[Running]:
        """Our containers, without the tasks of swarm services (the swarm runs those, the swarm driver lists
        their services)."""
        found = []
        for summary in self.client.api.containers(all=True, filters={"label": MANAGED_LABEL}):
            if SWARM_SERVICE_LABEL in (summary.get("Labels") or {}):
                continue
            try:
                found.append(_running(self.client.containers.get(summary["Id"])))
            except NotFound:
                continue  # removed since it was listed (a one-off ending, a release retired meanwhile)
        return found


def _running(container) -> Running:
    attributes = container.attrs
    image = attributes.get("Config", {}).get("Image", "")
    return Running(
        name=container.name,
        image=image,
        labels=container.labels,
        state=attributes.get("State", {}).get("Status", container.status),
        restarts=int(attributes.get("RestartCount", 0)),
    )


def _reason(error: Exception) -> str:
    explanation = getattr(error, "explanation", None)
    return str(explanation or error).strip()

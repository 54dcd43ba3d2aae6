"""The `swarm` driver: each release's web process is a Docker Swarm service (one replica, restarted by the
swarm on any exit), the scale-out engine over many hosts with the same images and API. Images are built
and one-off commands run on the manager's own engine, as with the `docker` driver; on several hosts the
images must reach the others through a registry.

Services use the host's network like the `docker` driver's containers (`PORT` per release). Docker 20.10's
service API has no `no-new-privileges` nor a process limit: services get no capabilities and a memory limit.
"""

from collections.abc import Iterator

from docker.errors import APIError, NotFound
from docker.types import Resources, RestartPolicy

from .docker_engine import DockerDriver, parse_log
from .specs import MANAGED_LABEL, LogLine, ProcessSpec, Running, RuntimeFailure

STOP_GRACE_NANOSECONDS = 10 * 1_000_000_000
TASK_RUNNING = "running"


class SwarmDriver(DockerDriver):
    name = "swarm"

    def ping(self) -> None:
        super().ping()
        if self.client.info().get("Swarm", {}).get("LocalNodeState") != "active":
            raise RuntimeFailure(
                "APPCONTROL_RUNTIME_DRIVER=swarm needs a swarm: run `docker swarm init` on the engine first."
            )

    def start(self, spec: ProcessSpec) -> None:
        self.stop(spec.name, grace_seconds=0)
        labels = {MANAGED_LABEL: "1", **spec.labels}
        try:
            self.client.services.create(
                spec.image,
                command=spec.command,
                name=spec.name,
                env=[f"{name}={value}" for name, value in spec.environment.items()],
                labels=labels,
                container_labels=labels,
                networks=["host"],
                cap_drop=["ALL"],
                stop_grace_period=STOP_GRACE_NANOSECONDS,
                resources=Resources(mem_limit=spec.limits.memory_bytes),
                restart_policy=RestartPolicy(condition="any", delay=1_000_000_000),
            )
        except APIError as error:
            raise RuntimeFailure(f"Cannot start the web process: {error.explanation or error}") from error

    def _service(self, name: str):
        try:
            return self.client.services.get(name)
        except NotFound:
            return None

    def state(self, name: str) -> Running | None:
        service = self._service(name)
        if service is None:
            return super().state(name)  # a one-off command's container
        tasks = sorted(service.tasks(), key=lambda task: task.get("CreatedAt", ""))
        current = tasks[-1]["Status"]["State"] if tasks else "new"
        # A task replaced because its container exited counts as a restart (the swarm starts a new task).
        restarts = sum(1 for task in tasks[:-1] if task["Status"]["State"] in {"failed", "complete", "rejected"})
        if current in {"failed", "complete", "rejected"}:
            restarts += 1
        return Running(
            name=name,
            image=service.attrs["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"].split("@")[0],
            labels=service.attrs["Spec"].get("Labels", {}),
            state="running" if current == TASK_RUNNING else "restarting" if restarts else current,
            restarts=restarts,
        )

    def stop(self, name: str, grace_seconds: float) -> None:
        service = self._service(name)
        if service is None:
            super().stop(name, grace_seconds)
            return
        try:
            service.remove()  # the swarm stops its tasks with the service's grace period
        except NotFound:
            return
        except APIError as error:
            raise RuntimeFailure(f"Cannot stop {name}: {error.explanation or error}") from error

    def logs(self, name: str, since: float | None = None, tail: int | None = None) -> Iterator[LogLine]:
        service = self._service(name)
        if service is None:
            return super().logs(name, since=since, tail=tail)
        options = {"timestamps": True, "since": int(since or 0), "tail": tail if tail is not None else "all"}
        lines = []
        for stream in ("stdout", "stderr"):
            raw = b"".join(self.client.api.service_logs(service.id, **{stream: True}, **options))
            lines += parse_log(raw, stream)
        return iter(sorted(lines, key=lambda line: line.timestamp))

    def list(self) -> list[Running]:
        services = self.client.services.list(filters={"label": MANAGED_LABEL})
        found = [self.state(service.name) for service in services]
        return [running for running in found if running is not None] + super().list()  # and one-off containers

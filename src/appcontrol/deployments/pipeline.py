"""What a deployment does, step by step (Divio's model, in runtime.md): fetch the branch, build the image
(or re-use a build of the same commit), run the release commands, start the new web process, health-check
it, switch the route, let in-flight requests finish, retire the old release.

Until the switch nothing the environment serves changes; a failure at any step leaves the old release
serving. The switch writes the new release, loads the router's configuration and marks the deployment
successful in one transaction: if the router refuses, none of it happens.
"""

import random
import socket
import threading
import time

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from appcontrol.applications.models import Environment, EnvironmentVariable
from appcontrol.core.ids import encode_id
from appcontrol.core.jobs import append_log, check_deadline, log, time_left
from appcontrol.core.sandbox import private_directory
from appcontrol.runtime.driver import Driver
from appcontrol.runtime.health import RESPONSE_TIMEOUT_SECONDS, probe
from appcontrol.runtime.specs import DEPLOYMENT_LABEL, ENVIRONMENT_LABEL, BuildSpec, Limits, ProcessSpec, RuntimeFailure

from . import git, hosted, logs, routing, services
from .engine import driver as configured_driver
from .models import Build, BuildMode, Deployment, Release, Status

LOG_LINE_MAX = 2000
# Of one release command's output, the environment's log keeps this much (the deployment's log its newest lines).
ENVIRONMENT_LOG_LINES = 10_000
LOG_FLUSH_SECONDS = 1.0
# Between health checks: 0.1 s, doubling up to 1 s (most processes answer within a second).
HEALTH_CHECK_FIRST_INTERVAL_SECONDS, HEALTH_CHECK_INTERVAL_SECONDS = 0.1, 1.0
STOP_GRACE_SECONDS = 10


class DeploymentFailed(Exception):
    """A step failed; the message is the one readable line the log and `errors` end with."""


def step(deployment: Deployment, status: str, percent: int) -> None:
    check_deadline()
    deployment.status, deployment.percent = status, max(percent, deployment.percent)
    Deployment.objects.filter(pk=deployment.pk).update(status=status, percent=deployment.percent)
    log(f"— {status}")


class LogStream:
    """Output lines into one or more rows' logs (and, for release commands, the environment's log, at most
    ENVIRONMENT_LOG_LINES of them), written in batches: a build prints thousands."""

    def __init__(self, *targets, environment_id=None):
        self.targets, self.pending, self.flushed_at = targets, [], time.monotonic()
        self.environment_id, self.kept = environment_id, 0
        self.lock = threading.Lock()

    def __call__(self, line: str) -> None:
        with self.lock:
            self.pending.append(line[:LOG_LINE_MAX])
            due = time.monotonic() - self.flushed_at >= LOG_FLUSH_SECONDS
        if due:
            self.flush()

    def flush(self) -> None:
        with self.lock:
            lines, self.pending, self.flushed_at = self.pending, [], time.monotonic()
        for model, pk in self.targets:
            append_log(model, pk, lines)
        if self.environment_id is not None and lines and self.kept <= ENVIRONMENT_LOG_LINES:
            room = ENVIRONMENT_LOG_LINES - self.kept
            kept = (
                lines[:room]
                if len(lines) <= room
                else [*lines[:room], f"… more output not kept (over {ENVIRONMENT_LOG_LINES} lines)"]
            )
            logs.entries_add(self.environment_id, "release", kept)
            self.kept += len(kept)


def container_name(deployment: Deployment, role: str) -> str:
    return f"appcontrol-{encode_id(deployment.pk)}-{role}"


def deploy(deployment: Deployment) -> None:
    try:
        engine = configured_driver()
    except RuntimeFailure as error:
        raise DeploymentFailed(str(error)) from error
    environment = Environment.objects.select_related("application__repository").get(pk=deployment.environment_id)
    try:
        build = deployment.build if deployment.is_rollback else prepare_build(deployment, environment, engine)
        run_release(deployment, environment, build, engine)
    except (git.GitError, RuntimeFailure) as error:
        raise DeploymentFailed(str(error)) from error


def prepare_build(deployment: Deployment, environment: Environment, engine: Driver) -> Build:
    application = environment.application
    repository = application.repository
    step(deployment, Status.FETCHING, 5)
    if repository is None:
        log("Reading the application's hosted repository")
        commit = hosted.resolve(application, environment.branch)
    else:
        log(f"Fetching {repository.url}")
        git.fetch(repository)
        commit = git.resolve(repository, environment.branch)
    deployment.commit = commit
    Deployment.objects.filter(pk=deployment.pk).update(commit=commit)
    log(f"Branch {environment.branch} is at {commit}")

    step(deployment, Status.BUILDING, 10)
    earlier = Build.objects.filter(application=application, commit=commit, success=True).order_by("-created_at").first()
    if earlier is not None and not engine.image_exists(earlier.image):
        log(f"Build {encode_id(earlier.pk)} of this commit exists, but its image is gone from the engine.")
        earlier = None
    if deployment.build_mode == BuildMode.ADOPT and earlier is None:
        raise DeploymentFailed(
            f"build_mode ADOPT re-uses a successful build of commit {commit[:12]}, and there is none: "
            "deploy with AUTO or FORCE to build it."
        )
    if deployment.build_mode != BuildMode.FORCE and earlier is not None:
        log(f"Re-using build {encode_id(earlier.pk)} of commit {commit[:12]} ({earlier.image}).")
        Deployment.objects.filter(pk=deployment.pk).update(build=earlier)
        return earlier
    return build_image(deployment, application, repository, commit, engine)


def build_image(deployment, application, repository, commit: str, engine: Driver) -> Build:
    build = Build(application=application, repository=repository, branch=deployment.branch, commit=commit)
    # The tag names the application and commit, and the build's random id: one tenant's Dockerfile cannot
    # guess another's image to build `FROM` it.
    build.image = f"appcontrol/{application.slug}:{commit[:12]}-{encode_id(build.pk)}"
    build.started_at = timezone.now()
    build.save(force_insert=True)
    deployment.build = build
    Deployment.objects.filter(pk=deployment.pk).update(build=build)
    log(f"Building {build.image} (build {encode_id(build.pk)})")
    output = LogStream((Build, build.pk), (Deployment, deployment.pk))
    with private_directory() as context, private_directory() as packed:
        if repository is None:
            hosted.export(application, commit, context)
        else:
            git.export(repository, commit, context)
        if not (context / "Dockerfile").is_file():
            raise DeploymentFailed(f"Commit {commit[:12]} has no Dockerfile at the top of the repository.")
        git.pack(context, packed / "context.tar")
        try:
            engine.build(
                BuildSpec(
                    context_archive=packed / "context.tar",
                    tag=build.image,
                    timeout=min(settings.APPCONTROL_BUILD_TIMEOUT_SECONDS, time_left()),
                    memory_bytes=settings.APPCONTROL_BUILD_MEMORY_MB * 1024**2,
                    network=settings.APPCONTROL_BUILD_NETWORK,
                    labels={"org.appcontrol.build": encode_id(build.pk)},
                ),
                output,
            )
        finally:
            output.flush()
    Build.objects.filter(pk=build.pk).update(state=Build.State.COMPLETED, success=True, ended_at=timezone.now())
    log("The build succeeded.")
    return build


def release_variables(environment: Environment, port: int) -> dict[str, dict]:
    """Platform variables, then the environment's own (which override them), then service credentials (which
    nothing overrides), then PORT."""
    services.secret_key_for(environment)
    hosts = routing.environment_hosts(environment)
    domain = hosts[1] if len(hosts) > 1 else hosts[0]  # the primary domain when there is one
    variables = {
        "STAGE": {"value": environment.slug, "sensitive": False},
        "DOMAIN": {"value": domain, "sensitive": False},
        "DOMAIN_ALIASES": {"value": ",".join(host for host in hosts if host != domain), "sensitive": False},
        "GIT_BRANCH": {"value": environment.branch, "sensitive": False},
    }
    rows = EnvironmentVariable.objects.filter(environment=environment).order_by("service_instance_id", "name")
    for row in sorted(rows, key=lambda row: row.service_instance_id is not None):
        variables[row.name] = {"value": row.value, "sensitive": row.is_sensitive, "write_only": row.is_write_only}
    variables["PORT"] = {"value": str(port), "sensitive": False}
    return variables


def free_port() -> int:
    """A loopback port in the release range that no release holds and nothing listens on."""
    taken = set(
        Deployment.objects.filter(port__isnull=False, ended_at__isnull=True).values_list("port", flat=True)
    ) | set(Release.objects.values_list("deployment__port", flat=True))
    candidates = [port for port in settings.APPCONTROL_RELEASE_PORT_RANGE if port not in taken]
    random.shuffle(candidates)
    for port in candidates[:200]:
        with socket.socket() as probe_socket:
            try:
                probe_socket.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise DeploymentFailed(f"No free port in APPCONTROL_RELEASE_PORTS ({settings.APPCONTROL_RELEASE_PORTS}).")


def process_spec(deployment: Deployment, image: str, role: str, variables: dict, command=None) -> ProcessSpec:
    return ProcessSpec(
        name=container_name(deployment, role),
        image=image,
        environment={name: entry["value"] for name, entry in variables.items()},
        limits=Limits(memory_bytes=settings.APPCONTROL_RELEASE_MEMORY_MB * 1024**2),
        command=command,
        labels={
            ENVIRONMENT_LABEL: encode_id(deployment.environment_id),
            DEPLOYMENT_LABEL: encode_id(deployment.pk),
        },
    )


def run_release(deployment: Deployment, environment: Environment, build: Build, engine: Driver) -> None:
    if not engine.image_exists(build.image):
        raise DeploymentFailed(f"The image {build.image} of build {encode_id(build.pk)} is gone from the engine.")
    port = free_port()
    variables = release_variables(environment, port)
    Deployment.objects.filter(pk=deployment.pk).update(
        build=build, commit=build.commit, port=port, environment_variables=variables
    )
    deployment.port = port
    log(f"Variables: {', '.join(sorted(variables))}")

    step(deployment, Status.RELEASING, 65)
    for number, entry in enumerate(environment.application.release_commands, start=1):
        label, command = entry.get("label") or f"command {number}", entry["command"]
        log(f"Release command {label!r}: {command}")
        output = LogStream((Deployment, deployment.pk), environment_id=environment.pk)
        timeout = min(settings.APPCONTROL_RELEASE_COMMAND_TIMEOUT_SECONDS, time_left())
        spec = process_spec(deployment, build.image, f"release-{number}", variables, ["/bin/sh", "-c", command])
        try:
            code = engine.run_once(spec, timeout, output)
        finally:
            output.flush()
        if code != 0:
            why = "did not finish in time" if code == 124 else f"exited with code {code}"
            raise DeploymentFailed(f"The release command {label!r} {why}; nothing was switched.")

    step(deployment, Status.STARTING, 75)
    web = process_spec(deployment, build.image, "web", variables)
    Deployment.objects.filter(pk=deployment.pk).update(container=web.name)
    deployment.container = web.name
    engine.start(web)
    log(f"Started {web.name} on port {port}")

    step(deployment, Status.HEALTH_CHECKING, 80)
    wait_until_healthy(deployment, engine, port, routing.default_host(environment))

    step(deployment, Status.SWITCHING, 95)
    previous = switch(deployment, environment)
    if previous is not None and previous.container and previous.container != deployment.container:
        retire(previous, engine)


def wait_until_healthy(deployment: Deployment, engine: Driver, port: int, host: str) -> None:
    """Probe until the web process answers, it exits, or the attempts (about a second each, the whole phase
    bounded by that many seconds, however slowly the process answers) run out."""
    path = settings.APPCONTROL_HEALTH_CHECK_PATH
    attempts = settings.APPCONTROL_HEALTH_CHECK_ATTEMPTS
    deadline = time.monotonic() + attempts * HEALTH_CHECK_INTERVAL_SECONDS
    result = None
    for attempt in range(1, attempts + 1):
        check_deadline()
        state = engine.state(deployment.container)
        if state is None or state.restarts > 0 or state.state in {"exited", "dead"}:
            tail = " | ".join(line.message for line in engine.logs(deployment.container, tail=5))
            raise DeploymentFailed(
                "The web process exited before it answered (it crashed"
                + (f"; its last output: {tail})" if tail else ")")
                + "; the old release keeps serving."
            )
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        result = probe(port, path, host=host, response_timeout=min(RESPONSE_TIMEOUT_SECONDS, remaining))
        if attempt == 1 or attempt % 10 == 0 or result.up:
            log(f"Health check {attempt}/{attempts}: GET {path} → {result.detail}")
        if result.up:
            return
        time.sleep(min(HEALTH_CHECK_FIRST_INTERVAL_SECONDS * 2 ** (attempt - 1), HEALTH_CHECK_INTERVAL_SECONDS))
    raise DeploymentFailed(
        f"The web process did not become healthy within {attempts} attempts "
        f"(last: {result.detail if result else '-'}); the old release keeps serving."
    )


def switch(deployment: Deployment, environment: Environment) -> Deployment | None:
    """Send the environment's traffic to the new release and mark the deployment successful, together: if
    the router or the database refuses, traffic goes back to the previous release."""
    with routing.locked(), transaction.atomic():
        release = Release.objects.select_for_update().select_related("deployment").filter(environment=environment)
        previous = release.first().deployment if release.exists() else None
        Release.objects.update_or_create(
            environment=environment, defaults={"deployment": deployment, "switched_at": timezone.now()}
        )
        routing.upstream_switch(environment.pk, deployment.port)
        try:
            if routing.routes_apply():
                log(f"The router now answers at {', '.join(routing.environment_hosts(environment))}.")
            elif settings.APPCONTROL_ROUTER == "off":
                log(f"No router (APPCONTROL_ROUTER=off): the release answers on 127.0.0.1:{deployment.port} only.")
            log("Done: the new release serves.")
            services.deployment_finish(deployment=deployment, status=Status.DONE, percent=100, success=True, errors="")
        except BaseException:
            routing.upstream_switch(environment.pk, previous.port if previous is not None else None)
            raise
    return previous


def retire(previous: Deployment, engine: Driver) -> None:
    """Let requests already at the old release finish, then stop it."""
    time.sleep(settings.APPCONTROL_DRAIN_SECONDS)
    logs.collect(previous, engine)  # its last lines, before they go with it
    try:
        engine.stop(previous.container, grace_seconds=STOP_GRACE_SECONDS)
        log(f"Stopped the previous release {previous.container}.")
    except RuntimeFailure as error:
        log(f"Could not stop the previous release {previous.container} yet ({error}); the reconciler will.")

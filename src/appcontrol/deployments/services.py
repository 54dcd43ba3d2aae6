"""Repositories and deployments: what the API and the commands may ask for."""

import secrets

from django.db import transaction
from django.utils import timezone

from appcontrol.accounts.models import Organisation
from appcontrol.applications.models import Environment, EnvironmentVariable, Repository
from appcontrol.core.events import publish
from appcontrol.core.exceptions import ActionError
from appcontrol.core.ids import encode_id
from appcontrol.core.jobs import append_log, enqueue

from . import git
from .models import Build, BuildMode, Deployment, Release, Status


class DeploymentError(ActionError):
    pass


def repository_create(*, organisation: Organisation, url: str, operator: bool = False) -> Repository:
    problem = git.url_problem(url, operator=operator)
    if problem:
        raise DeploymentError(problem, field="url")
    repository = Repository.objects.create(organisation=organisation, url=url)
    enqueue("repository-clone", repository.pk)
    publish("repository.created", repository_id=repository.pk, organisation_id=organisation.pk)
    return repository


def repository_clone(*, repository: Repository) -> None:
    git.clone(repository)
    Repository.objects.filter(pk=repository.pk).update(
        state=Repository.State.CLONED, reason="", ended_at=timezone.now()
    )


def repository_fail(*, repository: Repository, message: str) -> None:
    Repository.objects.filter(pk=repository.pk).update(
        state=Repository.State.INVALID, reason=message, ended_at=timezone.now()
    )


def deployment_create(*, environment: Environment, build_mode: str = BuildMode.AUTO, build=None, user=None):
    """Queue a deployment; refused (409) while another one of the environment runs. With `build`, re-release
    that earlier successful build of the application (a rollback: nothing is fetched or built)."""
    if build is not None and (build.application_id != environment.application_id or build.success is not True):
        raise DeploymentError("Roll back only to a successful build of this application.", field="build")
    with transaction.atomic():
        # Two requests at once: the second waits here, then sees the first one's deployment.
        Environment.objects.select_for_update().filter(pk=environment.pk).first()
        running = Deployment.objects.filter(environment=environment, ended_at__isnull=True).first()
        if running is not None:
            raise DeploymentError(
                f"A deployment of this environment is running: {encode_id(running.pk)}. "
                "Wait for it to end, then deploy again.",
                status=409,
            )
        deployment = Deployment.objects.create(
            environment=environment,
            application_id=environment.application_id,
            build_mode=build_mode,
            build=build,
            is_rollback=build is not None,
            branch=environment.branch,
            commit=build.commit if build is not None else "",
            created_by=user if user is not None and user.is_authenticated else None,
        )
        enqueue("deployment", deployment.pk)
        publish(
            "deployment.created",
            deployment_id=deployment.pk,
            environment_id=environment.pk,
            build_mode=build_mode,
            rollback=build is not None,
        )
    return deployment


def secret_key_for(environment: Environment) -> None:
    """Every environment gets a SECRET_KEY once, kept like any other sensitive variable."""
    EnvironmentVariable.objects.get_or_create(
        environment=environment,
        name="SECRET_KEY",
        defaults={"value": secrets.token_urlsafe(50), "is_sensitive": True},
    )


def deployment_finish(*, deployment: Deployment, **changes) -> None:
    """End a deployment: `success` and `ended_at` in one write, and the environment's last finished one."""
    now = timezone.now()
    with transaction.atomic():
        Deployment.objects.filter(pk=deployment.pk).update(ended_at=now, heartbeat_at=now, **changes)
        environment_changes = {"last_finished_deployment_id": deployment.pk}
        if changes.get("success"):
            # Its variables were read after it was queued: whatever changed since is still pending.
            environment_changes["variables_deployed_at"] = deployment.created_at
        Environment.objects.filter(pk=deployment.environment_id).update(**environment_changes)
        publish(
            "deployment.finished",
            deployment_id=deployment.pk,
            environment_id=deployment.environment_id,
            success=bool(changes.get("success")),
        )


def deployment_fail(*, deployment: Deployment, message: str, stop=None) -> None:
    """Record a failure; whatever this deployment started and never served is removed. The environment's
    release (and its route) were never touched, so the old release keeps serving."""
    serving = Release.objects.filter(environment_id=deployment.environment_id, deployment=deployment).exists()
    if deployment.container and not serving and stop is not None:
        try:
            stop(deployment.container)
        except Exception as error:  # noqa: BLE001 - the reconciler removes it later; the failure stands
            append_log(Deployment, deployment.pk, [f"Could not remove the new web process yet: {error}"])
    if deployment.build_id:
        Build.objects.filter(pk=deployment.build_id, ended_at__isnull=True).update(
            state=Build.State.COMPLETED, success=False, ended_at=timezone.now()
        )
    append_log(Deployment, deployment.pk, [f"Failed: {message}"])
    deployment_finish(deployment=deployment, status=Status.FAILED, success=False, errors=message)


def hosted_push_deploy(*, application, branches: dict[str, str], user=None) -> list[str]:
    """After a push to the application's hosted repository changed `branches` (name → commit): deploy the
    environments that follow one of them and have `auto_deploy`. Returns lines telling the pusher what
    happened (git shows them as `remote:` lines)."""
    lines = []
    for environment in Environment.objects.filter(application=application, branch__in=list(branches)):
        commit = branches[environment.branch][:12]
        if not environment.auto_deploy:
            lines.append(
                f"{environment.slug}: branch {environment.branch} is at {commit}; auto_deploy is off "
                f"(deploy with: appctl deploy -a {application.slug} -e {environment.slug})."
            )
            continue
        try:
            deployment = deployment_create(environment=environment, user=user)
        except DeploymentError as error:
            lines.append(f"{environment.slug}: not deployed. {error}")
            continue
        lines.append(
            f"{environment.slug}: deploying {environment.branch} at {commit}: deployment {encode_id(deployment.pk)} "
            f"(appctl deployments list -a {application.slug} -e {environment.slug})."
        )
    return lines

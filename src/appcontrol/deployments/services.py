"""Repositories and deployments: what the API and the commands may ask for."""

import secrets

from django.db import transaction
from django.utils import timezone

from appcontrol.accounts.models import Organisation
from appcontrol.applications.models import Environment, EnvironmentVariable, KeyType, Repository
from appcontrol.core import secret_box
from appcontrol.core.events import publish
from appcontrol.core.exceptions import ActionError
from appcontrol.core.ids import encode_id
from appcontrol.core.jobs import append_log, enqueue

from . import deploy_keys, git, git_access
from .models import Build, BuildMode, Deployment, Release, Status


class DeploymentError(ActionError):
    pass


class RepositoryCheckFailed(DeploymentError):
    """The git host refused or lacks something; `code` says what (`authentication`, `host_key`, …)."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.code = code


def repository_create(
    *,
    organisation: Organisation,
    url: str,
    operator: bool = False,
    key_type: str = "",
    username: str = "",
    password: str = "",
) -> Repository:
    """A repository, cloned by a job. An SSH URL gets a deploy key made here (`key_type`, Ed25519 by default;
    its public half is `public_key`); an HTTPS one may come with a user name and password or token."""
    problem = git.url_problem(url, operator=operator)
    if problem:
        raise DeploymentError(problem, field="url")
    ssh = git_access.transport(url) == "ssh"
    if ssh and (username or password):
        raise DeploymentError(
            "An SSH repository is read with a deploy key the server makes: leave out username and password.",
            field="username" if username else "password",
        )
    if not ssh and key_type:
        raise DeploymentError(
            "A deploy key is for SSH URLs (ssh://git@host/path or git@host:path); for HTTPS give username and "
            "password.",
            field="key_type",
        )
    if bool(username) != bool(password):
        raise DeploymentError(
            "Give both username and password (or an access token as the password), or neither.",
            field="password" if username else "username",
        )
    allowed = ("https", "http") if operator else ("https",)  # over plain http the password travels in clear
    if password and git_access.transport(url) not in allowed:
        raise DeploymentError(
            f"Only {' and '.join(f'{scheme}://' for scheme in allowed)} URLs take a username and password.",
            field="password",
        )
    repository = Repository(organisation=organisation, url=url, username=username, allow_internal=operator)
    if ssh:
        repository.key_type = key_type or KeyType.ED25519
        repository.private_key_encrypted, repository.public_key = _deploy_key(repository)
    if password:
        repository.password_encrypted = secret_box.encrypt(password)
    repository.save()
    enqueue("repository-clone", repository.pk)
    publish("repository.created", repository_id=repository.pk, organisation_id=organisation.pk)
    return repository


def _deploy_key(repository: Repository) -> tuple[str, str]:
    """(the encrypted private key, the public key line naming the repository)."""
    private, public = deploy_keys.generate(repository.key_type, f"appcontrol-repository-{encode_id(repository.pk)}")
    return secret_box.encrypt(private), public


def repository_check(*, repository: Repository, branch: str = "") -> None:
    """Ask the git host now whether the repository can be read (and has `branch`). A repository that could
    not be cloned is cloned again once it can be read (the deploy key was added at the host after it was
    made)."""
    try:
        git.check(repository, branch)
    except git.GitError as error:
        raise RepositoryCheckFailed(str(error), code=error.code or "error") from None
    with transaction.atomic():
        again = Repository.objects.filter(pk=repository.pk, state=Repository.State.INVALID).update(
            state=Repository.State.CLONING,
            reason="",
            queued_at=timezone.now(),
            started_at=None,
            ended_at=None,
            heartbeat_at=None,
            cancel_requested_at=None,
        )
        if again:
            enqueue("repository-clone", repository.pk)


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

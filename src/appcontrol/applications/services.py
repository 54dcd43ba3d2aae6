"""Application, environment and domain actions."""

from django.conf import settings
from django.db import transaction

from appcontrol.accounts.models import Organisation
from appcontrol.core.events import publish
from appcontrol.core.exceptions import ActionError
from appcontrol.core.ids import encode_id
from appcontrol.core.services import model_update

from .models import (
    DEFAULT_ENVIRONMENTS,
    Application,
    AppTemplate,
    Domain,
    Environment,
    LegacyApplicationId,
    PlanGroup,
    Region,
)


@transaction.atomic
def application_create(
    *,
    organisation: Organisation,
    slug: str,
    name: str,
    region: Region | None = None,
    branch: str = "main",
    repository=None,
    release_commands: list | None = None,
    plan_group: PlanGroup | None = None,
    template: AppTemplate | None = None,
) -> Application:
    """Create an application with its `test` and `live` environments, both following `branch`. From a
    `template`, its hosted repository starts with the template's files (the deployments app copies them)."""
    # Its two environments count against the organisation's limit, as any other would.
    Organisation.objects.select_for_update().filter(pk=organisation.pk).first()
    _refuse_beyond_environment_limit(organisation, adding=len(DEFAULT_ENVIRONMENTS))
    if plan_group is None:
        plan_group = PlanGroup.objects.first()
    if region is None:
        offered = plan_group.regions.all() if plan_group is not None else Region.objects.none()
        region = offered.first() or Region.objects.first()
    application = _created(
        Application(
            organisation=organisation,
            slug=slug,
            name=name,
            region=region,
            repository=repository,
            release_commands=release_commands or [],
            plan_group=plan_group,
            template=template,
        )
    )
    LegacyApplicationId.objects.create(application=application)
    for environment_slug in DEFAULT_ENVIRONMENTS:
        _created(Environment(application=application, slug=environment_slug, branch=branch))
    publish("application.created", application_id=application.pk, organisation_id=organisation.pk)
    return application


def _created(instance):
    """Saved only once its fields pass the model's validators (a slug like `Bad Slug!` or a branch like
    `a..b` is refused here, whoever calls: the API, a command or the demo)."""
    instance.full_clean()
    instance.save(force_insert=True)
    return instance


def application_update(*, application: Application, changes: dict) -> Application:
    publish(
        "application.updated",
        application_id=application.pk,
        organisation_id=application.organisation_id,
        fields=sorted(changes),
    )
    return model_update(instance=application, changes=changes)


class ApplicationError(ActionError):
    pass


def _refuse_while_instances_remain(environments, what: str) -> None:
    """Deleting does not destroy databases and storage by the way: their owner deletes them first, knowingly
    (a service instance's delete is what destroys its data)."""
    instances = [
        f"{instance.type} {instance.prefix} in {environment.slug} ({encode_id(instance.pk)})"
        for environment in environments
        for instance in environment.service_instances.all()
    ]
    if instances:
        raise ApplicationError(
            f"{what} still has service instances: {'; '.join(instances)}. Delete them first "
            "(DELETE /apps/v3/service-instances/<id>/ destroys their data); their backups stay until they expire.",
            status=409,
        )


@transaction.atomic
def application_delete(*, application: Application) -> None:
    """Delete an application and its environments, with their backups and artifacts (once no service
    instance is left)."""
    environments = list(application.environments.prefetch_related("service_instances"))
    _refuse_while_instances_remain(environments, f"The application {application.slug}")
    for environment in environments:
        publish("environment.deleted", environment_id=environment.pk, application_id=application.pk)
    publish(
        "application.deleted",
        application_id=application.pk,
        organisation_id=application.organisation_id,
        slug=application.slug,
    )
    application.delete()


# The text Divio answers at its limit, which scripts compare (divio/scripts ci-cd.py).
ENVIRONMENT_LIMIT_MESSAGE = "Can not add another Environment."


def _refuse_beyond_environment_limit(organisation: Organisation, adding: int = 1) -> None:
    limit = organisation.environment_limit
    if limit is None:
        limit = settings.APPCONTROL_ENVIRONMENT_LIMIT
    if limit and Environment.objects.filter(organisation=organisation).count() + adding > limit:
        raise ApplicationError(ENVIRONMENT_LIMIT_MESSAGE)


@transaction.atomic
def environment_create(
    *, application: Application, slug: str, branch: str = "main", auto_deploy: bool = False
) -> Environment:
    """A new environment of the application, within its organisation's environment limit."""
    # Two requests at once: the second counts after the first one's environment exists.
    Organisation.objects.select_for_update().filter(pk=application.organisation_id).first()
    _refuse_beyond_environment_limit(application.organisation)
    environment = _created(Environment(application=application, slug=slug, branch=branch, auto_deploy=auto_deploy))
    publish("environment.created", environment_id=environment.pk, application_id=application.pk)
    return environment


def environment_update(*, environment: Environment, changes: dict) -> Environment:
    publish(
        "environment.updated",
        environment_id=environment.pk,
        application_id=environment.application_id,
        fields=sorted(changes),
    )
    return model_update(instance=environment, changes=changes)


@transaction.atomic
def environment_delete(*, environment: Environment) -> None:
    """Delete an environment with its backups and their artifacts (once no service instance is left)."""
    _refuse_while_instances_remain([environment], f"The environment {environment.slug}")
    publish("environment.deleted", environment_id=environment.pk, application_id=environment.application_id)
    environment.delete()


@transaction.atomic
def domain_create(*, environment: Environment, domain: str, is_primary: bool = False) -> Domain:
    if is_primary:
        # The new primary domain replaces the old one in the same transaction.
        Domain.objects.filter(environment=environment, is_primary=True).update(is_primary=False)
    created = Domain.objects.create(environment=environment, domain=domain.lower(), is_primary=is_primary)
    publish("domain.created", domain_id=created.pk, environment_id=environment.pk, domain=created.domain)
    return created


def domain_delete(*, domain: Domain) -> None:
    publish("domain.deleted", domain_id=domain.pk, environment_id=domain.environment_id, domain=domain.domain)
    domain.delete()

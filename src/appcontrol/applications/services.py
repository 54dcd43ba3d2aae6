"""Application, environment and domain actions."""

from django.db import transaction

from appcontrol.accounts.models import Organisation
from appcontrol.core.services import model_update

from .models import DEFAULT_ENVIRONMENTS, Application, Domain, Environment, Region


@transaction.atomic
def application_create(
    *,
    organisation: Organisation,
    slug: str,
    name: str,
    region: Region | None = None,
    branch: str = "main",
) -> Application:
    """Create an application with its `test` and `live` environments, both following `branch`."""
    if region is None:
        region = Region.objects.first()
    application = Application.objects.create(organisation=organisation, slug=slug, name=name, region=region)
    for environment_slug in DEFAULT_ENVIRONMENTS:
        Environment.objects.create(application=application, slug=environment_slug, branch=branch)
    return application


def application_update(*, application: Application, changes: dict) -> Application:
    return model_update(instance=application, changes=changes)


@transaction.atomic
def application_delete(*, application: Application) -> None:
    application.delete()


def environment_create(*, application: Application, slug: str, branch: str = "main") -> Environment:
    return Environment.objects.create(application=application, slug=slug, branch=branch)


def environment_update(*, environment: Environment, changes: dict) -> Environment:
    return model_update(instance=environment, changes=changes)


def environment_delete(*, environment: Environment) -> None:
    environment.delete()


@transaction.atomic
def domain_create(*, environment: Environment, domain: str, is_primary: bool = False) -> Domain:
    if is_primary:
        # The new primary domain replaces the old one in the same transaction.
        Domain.objects.filter(environment=environment, is_primary=True).update(is_primary=False)
    return Domain.objects.create(environment=environment, domain=domain.lower(), is_primary=is_primary)


def domain_delete(*, domain: Domain) -> None:
    domain.delete()

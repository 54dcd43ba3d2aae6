"""`appctl domains …`: the domains of an environment."""

from typing import Annotated

import typer

from .common import AppOption, EnvOption, YesOption, command_group, delete_after_confirming, environment_of, state
from .output import emit

domains_app = command_group("Domains of an environment.")


@domains_app.command("list")
def domains_list(application: AppOption, environment: EnvOption):
    """List an environment's domains."""
    env = environment_of(application, environment)
    emit(state().client().domains.list(environment=env.uuid), ["uuid", "domain", "is_primary"], state().fmt)


@domains_app.command("add")
def domains_add(
    domain: str,
    application: AppOption,
    environment: EnvOption,
    primary: Annotated[
        bool, typer.Option("--primary", help="Make it the primary domain (replaces the old one).")
    ] = False,
):
    """Add a domain to an environment."""
    env = environment_of(application, environment)
    created = state().client().domains.create(environment=env.uuid, domain=domain, is_primary=primary)
    emit(created, ["uuid", "domain", "is_primary"], state().fmt, single=True)


@domains_app.command("delete")
def domains_delete(domain: Annotated[str, typer.Argument(help="Domain id.")], yes: YesOption = False):
    """Remove a domain from its environment."""
    domains = state().client().domains
    target = domains.get(domain)
    delete_after_confirming(
        domains, target.uuid, question=f"Remove {target.domain}?", done=f"Removed {target.domain}.", yes=yes
    )

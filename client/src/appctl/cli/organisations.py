"""`appctl orgs …`: the organisations a token can see."""

from .common import command_group, state
from .output import emit

orgs_app = command_group("Organisations your token can see.")


@orgs_app.command("list")
def orgs_list():
    """List the organisations you belong to, with your role in each."""
    emit(state().client().organisations.list(), ["uuid", "slug", "name", "role"], state().fmt)

"""`appctl regions …`: where applications run."""

from .common import command_group, state
from .output import emit

regions_app = command_group("Regions applications run in.")


@regions_app.command("list")
def regions_list():
    """List the regions."""
    emit(state().client().regions.list(), ["uuid", "name"], state().fmt)

"""`appctl services …`: the service catalogue."""

from .common import command_group, state
from .output import emit

services_app = command_group("The service catalogue.")


@services_app.command("list")
def services_list():
    """List the services the server can provision."""
    emit(state().client().services.list(), ["uuid", "identifier", "name", "type"], state().fmt)

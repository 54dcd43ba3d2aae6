"""`appctl envs …`: the environments of an application."""

from .common import AppOption, EnvOption, command_group, environment_of, state
from .output import emit

envs_app = command_group("Environments of an application.")


ENV_COLUMNS = ["uuid", "slug", "branch", "application"]


@envs_app.command("list")
def envs_list(application: AppOption):
    """List an application's environments."""
    client = state().client()
    emit(client.applications.resolve(application).bind(client).environments(), ENV_COLUMNS, state().fmt)


@envs_app.command("show")
def envs_show(application: AppOption, environment: EnvOption):
    """Show one environment."""
    emit(environment_of(application, environment), ENV_COLUMNS, state().fmt, single=True)

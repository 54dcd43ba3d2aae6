"""`Client`: the entry point of the SDK."""

from .config import resolve_token, resolve_url
from .resources import (
    Activities,
    Applications,
    AppTemplates,
    BackupRestores,
    Backups,
    BackupSchedules,
    Builds,
    Deployments,
    Domains,
    Environments,
    EnvironmentVariables,
    Organisations,
    PlanGroups,
    Regions,
    Repositories,
    ServiceInstanceBackups,
    ServiceInstances,
    Services,
)
from .transport import Transport


class Client:
    """`Client(base_url, token)`: exactly the server and token given, nothing read from elsewhere.
    `Client.from_env()` finds them as the command line does (options, `APPCTL_URL`/`APPCTL_TOKEN`, what
    `appctl login` saved, `~/.netrc`).

    Resource clients: `applications`, `environments`, `environment_variables`, `domains`, `services`,
    `service_instances`, `backups`, `service_instance_backups`, `backup_restores`, `backup_schedules`,
    `regions`, `organisations`, `repositories`, `builds`, `deployments`, `activities`, `app_templates`,
    `plan_groups`.
    """

    def __init__(self, base_url: str, token: str | None, *, timeout: float = 30.0, retries: int = 4):
        from . import __version__

        self.transport = Transport(
            base_url, token, timeout=timeout, retries=retries, user_agent=f"appctl/{__version__}"
        )
        self._slug_cache: dict = {}
        self.applications = Applications(self)
        self.environments = Environments(self)
        self.services = Services(self)
        self.service_instances = ServiceInstances(self)
        self.backups = Backups(self)
        self.service_instance_backups = ServiceInstanceBackups(self)
        self.backup_restores = BackupRestores(self)
        self.regions = Regions(self)
        self.organisations = Organisations(self)
        self.environment_variables = EnvironmentVariables(self)
        self.domains = Domains(self)
        self.backup_schedules = BackupSchedules(self)
        self.repositories = Repositories(self)
        self.builds = Builds(self)
        self.deployments = Deployments(self)
        self.activities = Activities(self)
        self.app_templates = AppTemplates(self)
        self.plan_groups = PlanGroups(self)

    @classmethod
    def from_env(cls, base_url: str | None = None, token: str | None = None, **options) -> "Client":
        """A client for the server and token given, else from `APPCTL_URL`, what `appctl login` saved,
        `APPCTL_TOKEN` and `~/.netrc` (divio-cli's entry for the same host works)."""
        url = resolve_url(base_url)
        return cls(url, resolve_token(url, token), **options)

    @property
    def base_url(self) -> str:
        return self.transport.base_url

    def me(self) -> dict:
        return self.transport.get_json("/iam/v3/me/")

    def request(self, method: str, path: str, **kwargs):
        """Any call: returns the decoded JSON body (None for an empty one)."""
        response = self.transport.request(method, path, **kwargs)
        return response.json() if response.content else None

    def paginate(self, path: str, *, limit: int | None = None, **params):
        return self.transport.paginate(path, params, limit=limit)

    def get(self, path: str, **params):
        return self.transport.get_json(path, params or None)

    def close(self) -> None:
        self.transport.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

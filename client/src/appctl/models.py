"""Typed views of the API's objects. Unknown fields from newer servers are kept, never an error.

Relations are methods (`app.environments()`), so a network call is always visible in the code.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

if TYPE_CHECKING:
    from .client import Client


class Model(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)
    uuid: str
    _client: Client | None = PrivateAttr(default=None)

    def bind(self, client: Client):
        self._client = client
        return self

    @property
    def client(self) -> Client:
        if self._client is None:
            raise RuntimeError(f"This {type(self).__name__} is not bound to a client.")
        return self._client


class User(Model):
    email: str
    first_name: str = ""
    last_name: str = ""


class Organisation(Model):
    name: str
    slug: str | None = None
    role: str | None = None


class Region(Model):
    name: str


class Service(Model):
    name: str
    type: str
    identifier: str | None = None


class Application(Model):
    slug: str
    name: str
    organisation: str | None = None
    repository: str | None = None
    # Where to `git push` when the application has no external repository (None otherwise).
    git_url: str | None = None

    def environments(self, **filters) -> Iterator[Environment]:
        return self.client.environments.list(application=self.uuid, **filters)

    def environment(self, slug: str) -> Environment:
        return self.client.environments.get_by_slug(self.uuid, slug)


class Environment(Model):
    slug: str
    application: str | None = None
    branch: str | None = None
    auto_deploy: bool | None = None
    url: str | None = None
    last_finished_deployment: dict | None = None

    def deployments(self, **filters) -> Iterator[Deployment]:
        return self.client.deployments.list(environment=self.uuid, **filters)

    def logs(
        self, *, since: datetime | None = None, follow: bool = False, interval: float = 2.0, lines: int = 100
    ) -> Iterator[dict]:
        """The environment's log lines (`timestamp`, `service`, `message`), oldest first: the newest `lines`,
        or every line from `since`; with `follow`, then new lines as they arrive (stop iterating to stop)."""
        return self.client.environments.logs(self.uuid, since=since, follow=follow, interval=interval, lines=lines)

    def backups(self, **filters) -> Iterator[Backup]:
        return self.client.backups.list(environment=self.uuid, **filters)

    def service_instances(self, **filters) -> Iterator[ServiceInstance]:
        return self.client.service_instances.list(environment=self.uuid, **filters)


class Waitable(Model):
    """An object a long operation changes: `wait()` polls `refresh()` until `done`."""

    def refresh(self):
        raise NotImplementedError

    @property
    def done(self) -> bool:
        raise NotImplementedError

    def wait(self, timeout: float = 3600, interval: float = 2.0, on_progress=None):
        """Poll until done (whatever the outcome); raise WaitTimeout after `timeout` seconds."""
        from .waiting import wait_until

        return wait_until(self.refresh, lambda current: current.done, timeout, interval, on_progress)


class ServiceInstance(Waitable):
    prefix: str = "DEFAULT"
    type: str
    service_status: str | None = None
    environment: str | None = None
    errors: list[str] = []

    def refresh(self) -> ServiceInstance:
        return self.client.service_instances.get(self.uuid)

    @property
    def done(self) -> bool:
        """Provisioned, or failed to be."""
        return self.service_status in ("ATTACHED", "ERROR")


class Backup(Waitable):
    environment: str | None = None
    state: str | None = None
    success: str | None = None
    trigger: str | None = None
    notes: str | None = None
    # The wire name is `service_instance_backups`; the method of that name fetches the objects.
    service_instance_backup_ids: list[str] = Field(default=[], alias="service_instance_backups")
    created_at: datetime | None = None

    @property
    def completed(self) -> bool:
        return self.state == "COMPLETED"

    def service_instance_backups(self) -> list[ServiceInstanceBackup]:
        """The backup's parts, one request per part (works on servers without a `backup` filter)."""
        return [self.client.service_instance_backups.get(part) for part in self.service_instance_backup_ids]

    def refresh(self) -> Backup:
        return self.client.backups.get(self.uuid)

    @property
    def done(self) -> bool:
        return self.completed


class ServiceInstanceBackup(Model):
    backup: str
    # The wire name is `service_instance`; the method of that name fetches the object.
    service_instance_id: str | None = Field(default=None, alias="service_instance")
    service_type: str | None = None
    queued_at: datetime | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    taken_at: datetime | None = None
    size: int | None = None
    sha256: str | None = None
    errors: list[Any] = []

    def service_instance(self) -> ServiceInstance | None:
        return self.client.service_instances.get(self.service_instance_id) if self.service_instance_id else None


class BackupRestore(Waitable):
    backup: str
    finished: bool = False
    success: str | None = None
    service_instance_restores: list[dict] = []

    def refresh(self) -> BackupRestore:
        return self.client.backup_restores.get(self.uuid)

    @property
    def done(self) -> bool:
        return self.finished


class BackupDownloadItem(Model):
    service_instance_backup: str | None = None
    ended_at: datetime | None = None
    errors: list[Any] = []
    download_url: str | None = None
    size: int | None = None
    sha256: str | None = None


class Repository(Waitable):
    organisation: str | None = None
    url: str
    state: str | None = None
    reason: str = ""
    key_type: str | None = None
    username: str | None = None
    auth_info: str | None = None  # an SSH repository's deploy key (public), to add at the git host

    def refresh(self) -> Repository:
        return self.client.repositories.get(self.uuid)

    def check(self, branch: str | None = None) -> dict:
        """Ask the server to reach the repository now (see `Repositories.check`)."""
        return self.client.repositories.check(self.uuid, branch=branch)

    @property
    def done(self) -> bool:
        """Cloned, or found unusable (`reason` says why)."""
        return self.state in ("CLONED", "INVALID")


class Build(Model):
    application: str | None = None
    branch: str | None = None
    commit: str | None = None
    image: str | None = None
    state: str | None = None
    success: bool | None = None
    created_at: datetime | None = None
    ended_at: datetime | None = None

    def logs(self) -> str:
        return self.client.builds.logs(self.uuid)


class Deployment(Waitable):
    environment: str
    application: str | None = None
    build: str | None = None
    build_mode: str | None = None
    commit: str | None = None
    status: str | None = None
    percent: int = 0
    success: bool | None = None
    errors: str = ""
    environment_variables: list[str] = []
    started_at: datetime | None = None
    ended_at: datetime | None = None

    def refresh(self) -> Deployment:
        return self.client.deployments.get(self.uuid)

    @property
    def done(self) -> bool:
        """Ended, whatever the outcome (`success` says which)."""
        return self.ended_at is not None

    def logs(self) -> str:
        return self.client.deployments.logs(self.uuid)


class AppTemplate(Model):
    identifier: str
    name: str
    url: str
    short_description: str = ""
    is_default: bool = False


class Activity(Model):
    application: str | None = None
    organisation: str | None = None
    created_at: datetime | None = None
    type: str
    description: str = ""
    user_name: str = ""
    token: str = ""

"""One resource client per collection: get, list (every page, lazily), create, update, delete."""

from __future__ import annotations

import hashlib
import os
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import ChecksumMismatch, NotFound
from .models import (
    Activity,
    Application,
    AppTemplate,
    Backup,
    BackupDownloadItem,
    BackupRestore,
    Build,
    Deployment,
    Environment,
    Model,
    Organisation,
    Region,
    Repository,
    Service,
    ServiceInstance,
    ServiceInstanceBackup,
)

if TYPE_CHECKING:
    from .client import Client


class Resource:
    path: str
    model: type[Model] = Model

    def __init__(self, client: Client):
        self.client = client

    def _wrap(self, data: dict):
        return self.model.model_validate(data).bind(self.client)

    def get(self, uuid: str):
        return self._wrap(self.client.transport.get_json(f"{self.path}{uuid}/"))

    def list(self, *, limit: int | None = None, **filters) -> Iterator:
        """Every object across all pages (or the first `limit`), filtered by the server."""
        for item in self.client.transport.paginate(self.path, filters, limit=limit):
            yield self._wrap(item)

    def create(self, **fields):
        return self._wrap(self.client.transport.request("POST", self.path, json=fields).json())

    def update(self, uuid: str, **fields):
        return self._wrap(self.client.transport.request("PATCH", f"{self.path}{uuid}/", json=fields).json())

    def delete(self, uuid: str) -> None:
        self.client.transport.request("DELETE", f"{self.path}{uuid}/")

    def _one(self, key: tuple, find, missing: str):
        """The single object `find()` returns, looked up once per client (slugs rarely change)."""
        cache = self.client._slug_cache
        if key not in cache:
            matches = find()
            if len(matches) != 1:
                raise NotFound(404, missing, "GET", self.path)
            cache[key] = matches[0]
        return cache[key]


class Organisations(Resource):
    path = "/iam/v3/organisations/"
    model = Organisation


class Activities(Resource):
    path = "/apps/v3/application-activities/"
    model = Activity


class AppTemplates(Resource):
    path = "/apps/v3/app-templates/"
    model = AppTemplate


class PlanGroups(Resource):
    path = "/billing/v3/application-plan-groups/"


class Regions(Resource):
    path = "/apps/v3/regions/"
    model = Region


class Services(Resource):
    path = "/apps/v3/services/"
    model = Service


class Applications(Resource):
    path = "/apps/v3/applications/"
    model = Application

    def get_by_slug(self, slug: str) -> Application:
        """The application with this slug; the answer is cached for the life of the client."""
        return self._one(
            ("application", slug),
            lambda: [app for app in self.list(slug=slug) if app.slug == slug],  # some servers ignore ?slug=
            f"No application with the slug {slug!r}.",
        )

    def resolve(self, slug_or_uuid: str) -> Application:
        """The application with this slug, else with this id; NotFound names what was looked for."""
        try:
            return self.get_by_slug(slug_or_uuid)
        except NotFound as by_slug:
            try:
                return self.get(slug_or_uuid)
            except NotFound:
                raise NotFound(404, f"No application with the slug or id {slug_or_uuid!r}.", "GET", self.path) from (
                    by_slug
                )


class Environments(Resource):
    path = "/apps/v3/environments/"
    model = Environment

    def get_by_slug(self, application: str, slug: str) -> Environment:
        return self._one(
            ("environment", application, slug),
            lambda: [
                env
                for env in self.list(application=application, slug=slug)
                if env.slug == slug and env.application in (None, application)
            ],
            f"No environment {slug!r} in application {application}.",
        )

    def copy(self, uuid: str, new_slug: str, *, copy_data: bool = False) -> Environment:
        """A new environment with this one's branch, variables and (empty, or with copy_data filled) service
        instances."""
        body = {"new_slug": new_slug, "copy_data": copy_data}
        return self._wrap(self.client.transport.request("POST", f"{self.path}{uuid}/copy/", json=body).json())

    def logs(
        self, uuid: str, *, since: datetime | None = None, follow: bool = False, interval: float = 2.0, lines: int = 100
    ) -> Iterator[dict]:
        """Log lines oldest first: the newest `lines`, or with `since` every line from then on; with `follow`,
        then new lines as they arrive, forever (stop iterating to stop)."""
        transport = self.client.transport
        params: dict = {"page_size": min(lines, 1000)}
        if since is not None:
            params["from_ts"] = since.astimezone(UTC).isoformat()
        newest = transport.get_json(f"{self.path}{uuid}/logs/", params)
        pages, page, asked = [newest], newest, None
        # With `since`, walk back to it. Once nothing is older, `previous` is the URL just asked for (on the
        # first page, one without a `before` cursor).
        while since is not None and page["results"] and "before=" in page["previous"] and page["previous"] != asked:
            asked = page["previous"]
            page = transport.get_json(asked)
            pages.append(page)
        for page in reversed(pages):
            yield from page["results"]
        following = newest["next"]
        while follow:
            time.sleep(interval)
            page = transport.get_json(following)
            yield from page["results"]
            following = page["next"]


class Repositories(Resource):
    path = "/apps/v3/repositories/"
    model = Repository

    def create(  # type: ignore[override]  # the fields a repository takes, still `create(**fields)` to call
        self,
        *,
        organisation: str,
        url: str,
        key_type: str | None = None,
        username: str | None = None,
        password: str | None = None,
    ) -> Repository:
        """Add a repository; the server clones it. An SSH URL gets a deploy key (`key_type` ED25519, ECDSA or
        RSA): add its `auth_info` at the git host, then `check()`. An HTTPS URL may come with a user name and
        password or access token (stored encrypted by the server, never returned)."""
        fields = {"organisation": organisation, "url": url}
        if key_type is not None:
            fields["key_type"] = key_type.upper()
        if username is not None:
            fields["username"] = username
        if password is not None:
            fields["password"] = password
        return super().create(**fields)

    def check(self, uuid: str, *, branch: str | None = None) -> dict:
        """Ask the server to reach the repository now: `{"code": "success"}`, or a `ValidationError` (status 400)
        whose body's `code` says what is wrong (`authentication`, `host_key`, `branch_missing`, …). A
        repository that could not be cloned before is cloned again after a success."""
        body = {"branch": branch} if branch else {}
        return self.client.transport.request("POST", f"{self.path}{uuid}/check/", json=body).json()


class WithLogs(Resource):
    def logs(self, uuid: str) -> str:
        """The object's log, a line each with its UTC time."""
        return self.client.transport.get_json(f"{self.path}{uuid}/logs")["logs"]


class Builds(WithLogs):
    path = "/apps/v3/builds/"
    model = Build


class Deployments(WithLogs):
    path = "/apps/v3/deployments/"
    model = Deployment

    def create(  # type: ignore[override]  # the fields a deployment takes, still `create(**fields)` to call
        self, *, environment: str, build_mode: str | None = None, build: str | None = None
    ) -> Deployment:
        """Start a deployment of an environment; `.wait()` on the answer follows it to its end."""
        fields = {"environment": environment}
        if build_mode is not None:
            fields["build_mode"] = build_mode.upper()
        if build is not None:
            fields["build"] = build
        return super().create(**fields)

    def rollback(self, *, environment: str, build: str) -> Deployment:
        """Release an earlier successful build again (nothing is rebuilt)."""
        return self.create(environment=environment, build=build)

    def environment_variables(self, uuid: str) -> dict:
        return self.client.transport.get_json(f"{self.path}{uuid}/environment-variables")["environment_variables"]


class ServiceInstances(Resource):
    path = "/apps/v3/service-instances/"
    model = ServiceInstance


class ServiceInstanceBackups(Resource):
    path = "/apps/v3/service-instance-backups/"
    model = ServiceInstanceBackup


class EnvironmentVariables(Resource):
    path = "/apps/v3/environment-variables/"


class Domains(Resource):
    path = "/apps/v3/domains/"


class BackupSchedules(Resource):
    path = "/apps/v3/backup-schedules/"


class BackupRestores(Resource):
    path = "/apps/v3/backup-restores/"
    model = BackupRestore


class Backups(Resource):
    path = "/apps/v3/backups/"
    model = Backup

    def create(  # type: ignore[override]  # keyword names a backup needs, still `create(**fields)` to call
        self, *, environment: str, services: list[str] | None = None, notes: str | None = None, **extra
    ):
        fields = {"environment": environment, "trigger": "MANUAL", **extra}
        if services is not None:
            fields["services"] = services
        if notes is not None:
            fields["notes"] = notes
        return super().create(**fields)

    def latest(
        self, *, application: str, environment: str, service_type: str | None = None
    ) -> tuple[Backup, list[tuple[ServiceInstanceBackup, ServiceInstance | None]]] | None:
        """The newest successful backup of an environment (with a part of `service_type`, if given),
        with its parts and their service instances; None when there is none.

        It asks the server to filter (a few requests whatever the number of backups) and checks every
        answer itself: on a server that ignores the filters it falls back to scanning every page.
        """
        app = self.client.applications.resolve(application)
        env = self.client.environments.get_by_slug(app.uuid, environment)
        pages = self.client.transport.paginate(self.path, {"environment": env.uuid, "success": "SUCCESS"})
        filtered = True
        candidates: list[Backup] = []
        for item in pages:
            backup = self._wrap(item)
            if backup.environment != env.uuid or backup.success != "SUCCESS":
                filtered = False  # the server ignored a filter: scan every page, compare dates ourselves
                continue
            if filtered:  # a filtering server answers newest first: the first with the right part wins
                parts = self._parts(backup, service_type)
                if parts is not None:
                    return backup, parts
            else:
                candidates.append(backup)
        candidates.sort(key=lambda backup: backup.created_at or datetime.min.replace(tzinfo=UTC), reverse=True)
        for backup in candidates:
            parts = self._parts(backup, service_type)
            if parts is not None:
                return backup, parts
        return None

    def _parts(self, backup: Backup, service_type: str | None):
        parts = backup.service_instance_backups()
        if service_type is not None:
            parts = [part for part in parts if part.service_type == service_type]
            if not parts:
                return None
        return [(part, part.service_instance()) for part in parts]

    def restore(self, backup: str, parts: list[str], *, targets: dict[str, str] | None = None, notes=None):
        items = []
        for part in parts:
            item = {"service_instance_backup": part}
            if targets and part in targets:
                item["service_instance"] = targets[part]
            items.append(item)
        fields = {"backup": backup, "service_instance_restores": items}
        if notes is not None:
            fields["notes"] = notes
        response = self.client.transport.request("POST", "/apps/v3/backup-restores/", json=fields).json()
        return BackupRestore.model_validate(response).bind(self.client)

    def download_link(self, backup: str, part: str) -> BackupDownloadItem:
        transport = self.client.transport
        download = transport.request(
            "POST",
            "/apps/v3/backup-downloads/",
            json={"backup": backup, "service_instance_backups": [part], "trigger": "PULL"},
        ).json()
        item = next(transport.paginate("/apps/v3/backup-download-service-instances/", {"backup": download["uuid"]}))
        return BackupDownloadItem.model_validate(
            transport.get_json(f"/apps/v3/backup-download-service-instances/{item['uuid']}/")
        ).bind(self.client)

    def download(self, backup: str, part: str, path: str | os.PathLike, *, on_progress=None) -> Path:
        """Stream a part's artifact to `path`, resuming a partial `path.part` with HTTP Range, and
        check its sha256 before the file gets its final name."""
        return self.download_item(self.download_link(backup, part), path, on_progress=on_progress)

    def artifact_extension(self, item: BackupDownloadItem) -> str:
        """What the artifact is, as the server names it (`dump`, `sqlite3`, `tar.gz`); `artifact` if unsaid."""
        if not item.download_url:
            return "artifact"
        response = self.client.transport.http.head(item.download_url)
        disposition = response.headers.get("content-disposition", "")
        match = re.search(r'filename="[^".]*\.([^"]+)"', disposition)
        return match.group(1) if match else "artifact"

    def download_item(self, item: BackupDownloadItem, path: str | os.PathLike, *, on_progress=None) -> Path:
        """`download` for a link already asked for (`download_link`)."""
        if item.errors or not item.download_url:
            raise NotFound(404, item.errors or "Nothing to download.", "GET", item.download_url or "")
        target = Path(path)
        partial = target.with_name(target.name + ".part")
        offset = partial.stat().st_size if partial.exists() else 0
        headers = {"range": f"bytes={offset}-"} if offset else {}
        http = self.client.transport.http
        with http.stream("GET", item.download_url, headers=headers) as response:
            if response.status_code == 416:
                offset = 0
            elif response.status_code not in (200, 206):
                raise NotFound(response.status_code, "The download link did not work.", "GET", item.download_url)
            mode = "ab" if response.status_code == 206 else "wb"
            done = offset if mode == "ab" else 0
            with open(partial, mode) as handle:
                for chunk in response.iter_bytes(1024 * 1024):
                    handle.write(chunk)
                    done += len(chunk)
                    if on_progress:
                        on_progress(done, item.size)
        digest = hashlib.sha256()
        with open(partial, "rb") as handle:
            while chunk := handle.read(1024 * 1024):
                digest.update(chunk)
        if item.sha256 and digest.hexdigest() != item.sha256:
            partial.unlink()
            raise ChecksumMismatch(f"{target.name}: sha256 {digest.hexdigest()} differs from {item.sha256}")
        partial.replace(target)
        return target

    def upload(self, *, environment: str, service_instance: str, path: str | os.PathLike, notes=None) -> Backup:
        """Upload a file as a backup of one service instance; the file itself is only read."""
        transport = self.client.transport
        fields = {"environment": environment, "services": [service_instance]}
        if notes is not None:
            fields["notes"] = notes
        answer = transport.request("POST", f"{self.path}upload/", json=fields).json()
        target = answer["results"][service_instance]
        size = os.path.getsize(path)
        if size > target["upload_parameters"]["max_file_size"]:
            raise ValueError(
                f"{path} is larger than the server's limit of {target['upload_parameters']['max_file_size']}"
            )
        # A PUT may be retried: each try reads the file again from its start.
        transport.request(
            "PUT", target["upload_parameters"]["url"], content=_FileBody(path), headers={"content-length": str(size)}
        )
        transport.request("POST", target["finish_url"])
        return self.get(answer["uuid"])


class _FileBody:
    """A request body that opens its file afresh each time it is read: a retried upload sends it whole."""

    def __init__(self, path: str | os.PathLike, chunk: int = 1024 * 1024):
        self.path, self.chunk = path, chunk

    def __iter__(self):
        with open(self.path, "rb") as handle:
            while data := handle.read(self.chunk):
                yield data

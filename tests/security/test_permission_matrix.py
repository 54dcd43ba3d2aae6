"""Every endpoint × every kind of caller × every action, with the expected status in one table.

The callers: nobody (no token), an outsider (owner of another organisation), a member whose token is
restricted to another organisation, a member with a read-only token, and a member, an admin and an owner
of the organisation that owns the objects. The rules the table follows:
- no token: 401; another organisation's objects: 404 (a body naming them: 400), never 403;
- a read-only token reads and is 403 on anything else;
- members read, create and change (environment variables too, and delete them); deleting applications, environments, service instances, backups and
  schedules needs an owner or admin (403 for a member); a member may delete a domain.
"""

# ruff: noqa: E501 - one request per line reads as the table it is

import pytest
from django.utils import timezone

from appcontrol.accounts.models import Role
from appcontrol.activities.models import ApplicationActivity
from appcontrol.applications.models import Domain, EnvironmentVariable, Repository
from appcontrol.applications.services import application_create
from appcontrol.backups.models import BackupSchedule
from appcontrol.backups.services import backup_download_create, backup_restore_create
from appcontrol.core.ids import encode_id
from appcontrol.deployments.models import Build, Deployment
from appcontrol.services.models import Service
from tests.backups.helpers import env_of, take_backup
from tests.conftest import api_url

ACTORS = ["anonymous", "outsider", "restricted", "read_only", "member", "admin", "owner"]
SAFE = {"list", "retrieve", "logs", "variables"}
MANAGING = {
    ("applications", "destroy"), ("environments", "destroy"), ("service-instances", "destroy"),
    ("backups", "destroy"), ("backup-schedules", "destroy"),
}  # fmt: skip
SUCCESS = {
    "list": 200,
    "retrieve": 200,
    "logs": 200,
    "variables": 200,
    "create": 201,
    "copy": 201,
    "upload": 201,
    "update": 200,
    "destroy": 204,
    "cancel": 409,
    "check": 200,
}
# (A complete backup cannot be cancelled: "success" for cancel is its 409.)


@pytest.fixture
def objects(world, provision, run_jobs, demo_repository):
    world.add_actor("read_only", world.acme, Role.MEMBER, read_only=True)
    restricted = world.add_actor("restricted", world.acme, Role.MEMBER)
    from appcontrol.accounts.services import membership_set, token_create

    membership_set(user=restricted, organisation=world.other, role=Role.MEMBER)
    world.tokens["restricted"] = token_create(user=restricted, name="other only", organisation=world.other)[1]
    test = env_of(world, "test")
    instance = provision(test, "sqlite")
    backup = take_backup(world, run_jobs, test)
    part = backup["service_instance_backups"][0]
    from appcontrol.backups.models import Backup, ServiceInstanceBackup
    from appcontrol.core.ids import decode_id

    backup_row = Backup.objects.get(pk=decode_id(backup["uuid"]))
    download = backup_download_create(backup=backup_row)
    restore = backup_restore_create(
        backup=backup_row, items=[(ServiceInstanceBackup.objects.get(pk=decode_id(part)), instance)]
    )
    empty = application_create(organisation=world.acme, slug="empty-app", name="Empty")
    repository = Repository.objects.create(organisation=world.acme, url="https://git.example.com/acme.git")
    # An operator's file:// repository: `check` reads it for real, without the network.
    local = Repository.objects.create(organisation=world.acme, url=demo_repository.url)
    build = Build.objects.create(
        application=world.apps["acme"], branch="main", commit="0" * 40, image="x", success=True
    )
    deployment = Deployment.objects.create(
        environment=test, application=world.apps["acme"], build=build, ended_at=timezone.now(), success=True
    )
    return {
        "repository": repository,
        "local_repository": local,
        "build": build,
        "deployment": deployment,
        "app": world.apps["acme"],
        "empty": empty,
        "test": test,
        "instance": instance,
        "backup": backup["uuid"],
        "part": part,
        "download": download,
        "download_item": download.items.get(),
        "restore": restore,
        "domain": Domain.objects.create(environment=test, domain="shop.example.com"),
        "variable": EnvironmentVariable.objects.get(service_instance=instance),
        "user_variable": EnvironmentVariable.objects.create(environment=test, name="GREETING", value="hello"),
        "activity": ApplicationActivity.objects.create(
            organisation=world.acme, application_id=world.apps["acme"].pk, type="application.updated", description="x"
        ),
        "schedule": BackupSchedule.objects.get(environment=test),
    }


def requests(objects, world) -> dict:
    """(resource, action) → (method, url, body), every object belonging to the organisation `acme`."""
    o, eid = objects, encode_id
    sqlite = eid(Service.objects.get(engine="sqlite").pk)
    return {
        ("applications", "list"): ("get", api_url("api:application-list"), None),
        ("applications", "retrieve"): ("get", api_url("api:application-detail", uuid=o["app"].pk), None),
        ("applications", "create"): (
            "post", api_url("api:application-list"), {"name": "New", "slug": "new-app", "organisation": eid(world.acme.pk)}
        ),
        ("applications", "update"): ("patch", api_url("api:application-detail", uuid=o["app"].pk), {"name": "Renamed"}),
        ("applications", "destroy"): ("delete", api_url("api:application-detail", uuid=o["empty"].pk), None),
        ("environments", "list"): ("get", api_url("api:environment-list"), None),
        ("environments", "retrieve"): ("get", api_url("api:environment-detail", uuid=o["test"].pk), None),
        ("environments", "create"): (
            "post", api_url("api:environment-list"), {"application": eid(o["app"].pk), "slug": "staging"}
        ),
        ("environments", "update"): ("patch", api_url("api:environment-detail", uuid=o["test"].pk), {"branch": "dev"}),
        ("environments", "copy"): ("post", api_url("api:environment-copy-copy", uuid=o["test"].pk), {"new_slug": "copied"}),
        ("environments", "destroy"): (
            "delete", api_url("api:environment-detail", uuid=o["empty"].environments.get(slug="live").pk), None
        ),
        ("domains", "list"): ("get", api_url("api:domain-list"), None),
        ("domains", "retrieve"): ("get", api_url("api:domain-detail", uuid=o["domain"].pk), None),
        ("domains", "create"): ("post", api_url("api:domain-list"), {"environment": eid(o["test"].pk), "domain": "x.example.com"}),
        ("domains", "destroy"): ("delete", api_url("api:domain-detail", uuid=o["domain"].pk), None),
        ("service-instances", "list"): ("get", api_url("api:service-instance-list"), None),
        ("service-instances", "retrieve"): ("get", api_url("api:service-instance-detail", uuid=o["instance"].pk), None),
        ("service-instances", "create"): (
            "post", api_url("api:service-instance-list"),
            {"environment": eid(o["test"].pk), "service": sqlite, "prefix": "EXTRA"},
        ),
        ("service-instances", "destroy"): ("delete", api_url("api:service-instance-detail", uuid=o["instance"].pk), None),
        ("environment-variables", "list"): ("get", api_url("api:environment-variable-list"), None),
        ("environment-variables", "retrieve"): (
            "get", api_url("api:environment-variable-detail", uuid=o["variable"].pk), None
        ),
        ("environment-variables", "create"): (
            "post", api_url("api:environment-variable-list"), {"environment": eid(o["test"].pk), "name": "NEW_NAME", "value": "v"}
        ),
        ("environment-variables", "update"): (
            "patch", api_url("api:environment-variable-detail", uuid=o["user_variable"].pk), {"value": "changed"}
        ),
        ("environment-variables", "destroy"): (
            "delete", api_url("api:environment-variable-detail", uuid=o["user_variable"].pk), None
        ),
        ("backups", "list"): ("get", api_url("api:backup-list"), None),
        ("backups", "retrieve"): ("get", api_url("api:backup-detail", uuid=o["backup"]), None),
        ("backups", "create"): ("post", api_url("api:backup-list"), {"environment": eid(o["test"].pk)}),
        ("backups", "cancel"): ("post", api_url("api:backup-detail", uuid=o["backup"]) + "cancel/", None),
        ("backups", "upload"): ("post", api_url("api:backup-list") + "upload/", {"environment": eid(o["test"].pk), "services": [eid(o["instance"].pk)]}),
        ("backups", "destroy"): ("delete", api_url("api:backup-detail", uuid=o["backup"]), None),
        ("service-instance-backups", "list"): ("get", api_url("api:service-instance-backup-list"), None),
        ("service-instance-backups", "retrieve"): (
            "get", api_url("api:service-instance-backup-detail", uuid=o["part"]), None
        ),
        ("backup-downloads", "list"): ("get", api_url("api:backup-download-list"), None),
        ("backup-downloads", "retrieve"): ("get", api_url("api:backup-download-detail", uuid=o["download"].pk), None),
        ("backup-downloads", "create"): ("post", api_url("api:backup-download-list"), {"backup": o["backup"]}),
        ("backup-download-service-instances", "list"): ("get", api_url("api:backup-download-service-instance-list"), None),
        ("backup-download-service-instances", "retrieve"): (
            "get", api_url("api:backup-download-service-instance-detail", uuid=o["download_item"].pk), None
        ),
        ("backup-restores", "list"): ("get", api_url("api:backup-restore-list"), None),
        ("backup-restores", "retrieve"): ("get", api_url("api:backup-restore-detail", uuid=o["restore"].pk), None),
        ("backup-restores", "create"): (
            "post", api_url("api:backup-restore-list"),
            {"backup": o["backup"], "service_instance_restores": [{"service_instance_backup": o["part"]}]},
        ),
        ("backup-schedules", "list"): ("get", api_url("api:backup-schedule-list"), None),
        ("backup-schedules", "retrieve"): ("get", api_url("api:backup-schedule-detail", uuid=o["schedule"].pk), None),
        ("backup-schedules", "update"): ("patch", api_url("api:backup-schedule-detail", uuid=o["schedule"].pk), {"hour": 5}),
        ("backup-schedules", "destroy"): ("delete", api_url("api:backup-schedule-detail", uuid=o["schedule"].pk), None),
        ("repositories", "list"): ("get", api_url("api:repository-list"), None),
        ("repositories", "retrieve"): ("get", api_url("api:repository-detail", uuid=o["repository"].pk), None),
        ("repositories", "create"): ("post", api_url("api:repository-list"), {"organisation": eid(world.acme.pk), "url": "https://git.example.com/new.git"}),
        ("repositories", "check"): ("post", api_url("api:repository-check", uuid=o["local_repository"].pk), {"branch": "main", "migrate": "true"}),
        ("builds", "list"): ("get", api_url("api:build-list"), None),
        ("builds", "retrieve"): ("get", api_url("api:build-detail", uuid=o["build"].pk), None),
        ("builds", "logs"): ("get", api_url("api:build-logs", uuid=o["build"].pk), None),
        ("deployments", "list"): ("get", api_url("api:deployment-list"), None),
        ("deployments", "retrieve"): ("get", api_url("api:deployment-detail", uuid=o["deployment"].pk), None),
        ("deployments", "logs"): ("get", api_url("api:deployment-logs", uuid=o["deployment"].pk), None),
        ("deployments", "variables"): ("get", api_url("api:deployment-environment-variables", uuid=o["deployment"].pk), None),
        ("deployments", "create"): ("post", api_url("api:deployment-list"), {"environment": eid(o["test"].pk)}),
        ("application-activities", "list"): ("get", api_url("api:application-activity-list"), None),
        ("application-activities", "retrieve"): ("get", api_url("api:application-activity-detail", uuid=o["activity"].pk), None),
        ("organisations", "list"): ("get", api_url("iam:organisation-list"), None),
        ("organisations", "retrieve"): ("get", api_url("iam:organisation-detail", uuid=world.acme.pk), None),
    }  # fmt: skip


def expected(resource: str, action: str, actor: str) -> int:
    if actor == "anonymous":
        return 401
    if actor in ("outsider", "restricted"):  # the objects are another organisation's to them
        return {"list": 200, "create": 400, "upload": 400}.get(action, 404)
    if actor == "read_only" and action not in SAFE:
        return 403
    if actor == "member" and (resource, action) in MANAGING:
        return 403
    return SUCCESS[action]


CASES = [
    (resource, action)
    for resource, action in [
        *[
            (r, a)
            for r in ["applications", "environments"]
            for a in ["list", "retrieve", "create", "update", "destroy"]
        ],
        ("environments", "copy"),
        *[("domains", a) for a in ["list", "retrieve", "create", "destroy"]],
        *[("service-instances", a) for a in ["list", "retrieve", "create", "destroy"]],
        *[("environment-variables", a) for a in ["list", "retrieve", "create", "update", "destroy"]],
        *[("backups", a) for a in ["list", "retrieve", "create", "upload", "cancel", "destroy"]],
        *[("service-instance-backups", a) for a in ["list", "retrieve"]],
        *[(r, a) for r in ["backup-downloads", "backup-restores"] for a in ["list", "retrieve", "create"]],
        *[("backup-download-service-instances", a) for a in ["list", "retrieve"]],
        *[("backup-schedules", a) for a in ["list", "retrieve", "update", "destroy"]],
        *[("organisations", a) for a in ["list", "retrieve"]],
        *[("application-activities", a) for a in ["list", "retrieve"]],
        *[("repositories", a) for a in ["list", "retrieve", "create", "check"]],
        *[("builds", a) for a in ["list", "retrieve", "logs"]],
        *[("deployments", a) for a in ["list", "retrieve", "logs", "variables", "create"]],
    ]
]


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize(("resource", "action"), CASES)
def test_permission_matrix(world, objects, resource, action, actor):
    method, url, body = requests(objects, world)[(resource, action)]
    client = world.client(actor) if actor != "anonymous" else world.client(None)
    response = getattr(client, method)(url, body, format="json") if body is not None else getattr(client, method)(url)
    want = expected(resource, action, actor)
    assert response.status_code == want, (response.status_code, response.content[:300])
    if want == 200 and action == "list" and actor in ("outsider", "restricted"):
        found = {item.get("uuid") for item in response.json()["results"]}
        assert not found & {encode_id(objects[key].pk) for key in ("app", "test", "instance", "domain")}


@pytest.mark.parametrize("actor", ACTORS)
def test_a_signed_download_link_is_the_permission_itself(world, objects, actor):
    """Whoever holds the link may download (for its hour), whatever token, if any, comes with it."""
    from django.test import Client

    listed = world.client("member").get(
        api_url("api:backup-download-service-instance-detail", uuid=objects["download_item"].pk)
    )
    link = listed.json()["download_url"].replace("http://testserver", "")
    headers = {"HTTP_AUTHORIZATION": f"Token {world.tokens[actor]}"} if actor in world.tokens else {}
    response = Client().get(link, **headers)
    assert response.status_code == 200
    tampered = Client().get(link[:-3] + ("xx/" if not link.endswith("xx/") else "yy/"), **headers)
    assert tampered.status_code == 403

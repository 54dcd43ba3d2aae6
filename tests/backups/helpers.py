import hashlib
from datetime import datetime, timedelta
from pathlib import Path

from django.test import Client

from appcontrol.applications.models import EnvironmentVariable
from appcontrol.backups.models import Backup, Outcome, Trigger
from appcontrol.core.ids import encode_id
from tests.conftest import api_url


def env_of(world, slug, app="acme"):
    return world.apps[app].environments.get(slug=slug)


def database_url(instance) -> str:
    return EnvironmentVariable.objects.get(service_instance=instance).value


def take_backup(world, run_jobs, environment, instances=None, actor="member", **extra) -> dict:
    body = {"environment": encode_id(environment.pk), **extra}
    if instances is not None:
        body["services"] = [encode_id(instance.pk) for instance in instances]
    client = world.client(actor)
    with run_jobs():
        response = client.post(api_url("api:backup-list"), body, format="json")
        assert response.status_code == 201, response.json()
        assert response.json()["state"] == "WORKING"
    return client.get(api_url("api:backup-detail", uuid=response.json()["uuid"])).json()


def restore(world, run_jobs, backup: dict, targets: dict | None = None, actor="member") -> dict:
    """Restore every part of `backup`; `targets` maps a part's id to another service instance."""
    targets = targets or {}
    items = []
    for sib_id in backup["service_instance_backups"]:
        item = {"service_instance_backup": sib_id}
        if sib_id in targets:
            item["service_instance"] = encode_id(targets[sib_id].pk)
        items.append(item)
    client = world.client(actor)
    with run_jobs():
        response = client.post(
            api_url("api:backup-restore-list"),
            {"backup": backup["uuid"], "service_instance_restores": items},
            format="json",
        )
    assert response.status_code == 201, response.json()
    return client.get(api_url("api:backup-restore-detail", uuid=response.json()["uuid"])).json()


def tree_digest(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def start_upload(world, environment, instance, actor="member"):
    response = world.client(actor).post(
        "/apps/v3/backups/upload/",
        {
            "environment": encode_id(environment.pk),
            "services": [encode_id(instance.pk)],
            "notes": "Divio CLI push",
            "scheduled_for_deletion_at": "2099-01-01T00:00:00+00:00",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    target = body["results"][encode_id(instance.pk)]
    assert target["handler"] == "exo-presigned-v1"
    assert target["upload_parameters"]["http_method"] == "PUT" and target["upload_parameters"]["max_file_size"] > 0
    return body["uuid"], target


def put(url, data: bytes):
    return Client().put(url.replace("http://testserver", ""), data, content_type="application/octet-stream")


def finish(run_jobs, url):
    with run_jobs():
        response = Client().post(url.replace("http://testserver", ""), HTTP_AUTHORIZATION="Basic eDp5")
    assert response.status_code == 202
    return response


def make_history(environment, days: int, now: datetime) -> list[Backup]:
    backups = []
    for age in range(days):
        backups.append(
            Backup.objects.create(
                environment=environment,
                trigger=Trigger.SCHEDULED,
                state="COMPLETED",
                success=Outcome.SUCCESS,
                created_at=now - timedelta(days=age),
            )
        )
    return backups

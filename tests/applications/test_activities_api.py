"""The audit log: one activity per write through the API, none for reads, visible to the organisation."""

import pytest

from appcontrol.activities.models import ApplicationActivity
from appcontrol.core.ids import encode_id
from tests.conftest import api_url

LIST = "api:application-activity-list"


def env_of(world, slug="test"):
    return world.apps["acme"].environments.get(slug=slug)


@pytest.fixture
def fresh(world):
    """The world's own setup (made outside requests) is not what these tests look at."""
    ApplicationActivity.objects.all().delete()
    return world


@pytest.fixture
def committed(run_jobs):
    """`with committed(): …`: what the requests inside publish is dispatched, as after their commits (each
    test runs in one transaction that never commits)."""
    return run_jobs


def activities(world, actor="member", query=""):
    response = world.client(actor).get(api_url(LIST, query=query))
    assert response.status_code == 200
    return response.json()["results"]


def test_each_write_records_one_activity_and_reads_none(fresh, committed):
    world, client = fresh, fresh.client("member")
    environment = encode_id(env_of(fresh).pk)
    with committed():
        client.get(api_url("api:application-list"))  # the token's first use
    before = ApplicationActivity.objects.count()
    with committed():
        for url in ("api:application-list", "api:environment-list", "api:environment-variable-list"):
            client.get(api_url(url))
    assert ApplicationActivity.objects.count() == before

    with committed():
        created = client.post(
            api_url("api:environment-variable-list"),
            {"environment": environment, "name": "API_KEY", "value": "top-secret-value", "is_sensitive": True},
            format="json",
        )
    with committed():
        client.patch(api_url("api:environment-detail", uuid=env_of(world).pk), {"branch": "develop"}, format="json")
    with committed():
        client.post(
            api_url("api:domain-list"), {"environment": environment, "domain": "shop.example.com"}, format="json"
        )
    with committed():
        client.delete(api_url("api:environment-variable-detail", uuid=created.json()["uuid"]))
    types = [row["type"] for row in activities(world)][:4]
    assert types == [
        "environment_variable.deleted", "domain.created", "environment.updated", "environment_variable.created"
    ]  # fmt: skip
    assert ApplicationActivity.objects.count() == before + 4

    newest = activities(world)[0]
    member = world.users["member"]
    assert newest["application"] == encode_id(world.apps["acme"].pk)
    assert newest["organisation"] == encode_id(world.acme.pk)
    assert newest["user"] == encode_id(member.pk) and newest["user_email"] == member.email
    assert newest["token"] and newest["token"] in world.tokens["member"]
    assert newest["description"] == "Removed the variable API_KEY from test"
    assert newest["context"]["name"] == "API_KEY" and newest["context"]["environment"] == "test"
    assert newest["impersonated"] is False and newest["user_is_removed"] is False
    assert b"top-secret-value" not in world.client("owner").get(api_url(LIST)).content


def test_a_new_tokens_first_use_is_recorded_once(fresh, committed):
    client = fresh.client("member")
    with committed():
        client.get(api_url("api:application-list"))
        client.get(api_url("api:application-list"))
    first_uses = ApplicationActivity.objects.filter(type="token.first_used")
    assert first_uses.count() == 1
    assert first_uses.get().organisation_id == fresh.acme.pk and first_uses.get().user == fresh.users["member"]


def test_filters_and_isolation(fresh, committed):
    world = fresh
    with committed():
        world.client("member").post(
            api_url("api:application-list"),
            {"name": "Second", "slug": "second-app", "organisation": encode_id(world.acme.pk)},
            format="json",
        )
    with committed():
        world.client("outsider").patch(
            api_url("api:application-detail", uuid=world.apps["other"].pk), {"name": "Theirs"}, format="json"
        )
    acme = activities(world, query="type=application.created")
    assert [row["description"] for row in acme] == ["Created the application second-app"]
    app = encode_id(world.apps["other"].pk)
    assert activities(world, query=f"application={app}") == []  # another organisation's: nothing
    theirs = activities(world, "outsider", query=f"application={app}")
    assert [row["type"] for row in theirs] == ["application.updated"]
    assert theirs[0]["context"]["fields"] == ["name"]
    mine = activities(world, query=f"organisation={encode_id(world.acme.pk)}&user_name=member")
    assert mine and all(row["user_email"] == "member@example.com" for row in mine)
    other_row = ApplicationActivity.objects.filter(organisation=world.other).first()
    detail = world.client("member").get(api_url("api:application-activity-detail", uuid=other_row.pk))
    assert detail.status_code == 404
    assert world.client("member").post(api_url(LIST), {}, format="json").status_code == 405


def test_a_deleted_application_keeps_its_history(fresh, committed):
    world = fresh
    app = world.apps["acme"]
    with committed():
        world.client("owner").patch(api_url("api:application-detail", uuid=app.pk), {"name": "Renamed"}, format="json")
    with committed():
        assert world.client("owner").delete(api_url("api:application-detail", uuid=app.pk)).status_code == 204
    rows = activities(world, "owner", query=f"application={encode_id(app.pk)}")
    assert [row["type"] for row in rows] == ["application.deleted", "application.updated"]
    assert rows[0]["description"] == "Deleted the application example-application"


def test_work_the_product_does_itself_names_no_user(fresh, provision, run_jobs):
    from appcontrol.backups.services import backup_create

    environment = env_of(fresh)
    provision(environment, "sqlite")
    ApplicationActivity.objects.all().delete()
    with run_jobs():
        backup_create(environment=environment, trigger="SCHEDULED")
    rows = activities(fresh)
    assert [row["type"] for row in rows] == ["backup.completed", "backup.created"]
    assert all(row["user"] is None and row["user_name"] == "appcontrol" for row in rows)
    assert rows[1]["description"] == "Started a backup of test (SCHEDULED)"

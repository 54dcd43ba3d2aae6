"""Environment variables users set: create, change, remove; write-only secrets; service credentials read-only."""

import pytest
from django.utils import timezone

from appcontrol.applications.models import Environment, EnvironmentVariable
from appcontrol.core.ids import encode_id
from tests.conftest import api_url

LIST = "api:environment-variable-list"


def env_of(world, slug="test", app="acme"):
    return world.apps[app].environments.get(slug=slug)


def detail(variable_id):
    return api_url("api:environment-variable-detail", uuid=variable_id)


def create(world, actor="member", **body):
    body.setdefault("environment", encode_id(env_of(world).pk))
    return world.client(actor).post(api_url(LIST), body, format="json")


def test_a_member_sets_a_variable_and_it_is_listed_as_divio_cli_reads_it(world):
    response = create(world, name="GREETING", value="hello world")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == "GREETING" and body["value"] == "hello world" and body["is_sensitive"] is False
    assert body["pending_deployment"] is True

    environment = encode_id(env_of(world).pk)
    listed = world.client("member").get(api_url(LIST, query=f"environment={environment}&name=GREETING")).json()
    assert [(row["environment"], row["name"], row["value"], row["is_sensitive"]) for row in listed["results"]] == [
        (environment, "GREETING", "hello world", False)
    ]


def test_values_keep_their_whitespace_and_may_be_empty(world):
    assert create(world, name="PADDED", value="  two  \n").json()["value"] == "  two  \n"
    assert create(world, name="EMPTY", value="").json()["value"] == ""


@pytest.mark.parametrize("actor", ["member", "admin", "owner"])
def test_a_sensitive_value_is_write_only_for_everyone(world, actor):
    response = create(world, actor, name="API_KEY", value="s3cr3t-value", is_sensitive=True)
    assert response.status_code == 201
    assert response.json()["value"] is None
    variable_id = response.json()["uuid"]
    for reader in ("member", "admin", "owner"):
        assert world.client(reader).get(detail(variable_id)).json()["value"] is None
        assert b"s3cr3t-value" not in world.client(reader).get(api_url(LIST)).content
    # The application still receives it.
    assert EnvironmentVariable.objects.get(name="API_KEY").value == "s3cr3t-value"


def test_service_credentials_stay_readable_to_owners_only(world, provision):
    instance = provision(env_of(world), "sqlite")
    credential = EnvironmentVariable.objects.get(service_instance=instance)
    original = credential.value
    assert world.client("owner").get(detail(credential.pk)).json()["value"] == original
    assert world.client("member").get(detail(credential.pk)).json()["value"] is None
    changed = world.client("owner").patch(detail(credential.pk), {"value": "postgres://evil"}, format="json")
    assert changed.status_code == 409
    assert "service instance's credential" in changed.json()["non_field_errors"][0]
    assert world.client("owner").delete(detail(credential.pk)).status_code == 409
    assert EnvironmentVariable.objects.get(pk=credential.pk).value == original


def test_change_and_remove(world):
    variable_id = create(world, name="MODE", value="one").json()["uuid"]
    changed = world.client("member").patch(detail(variable_id), {"value": "two"}, format="json")
    assert changed.status_code == 200 and changed.json()["value"] == "two"
    renamed = world.client("member").patch(detail(variable_id), {"name": "OTHER", "value": "three"}, format="json")
    assert renamed.json()["name"] == "MODE"  # the name is fixed
    assert world.client("member").delete(detail(variable_id)).status_code == 204
    assert not EnvironmentVariable.objects.filter(name="MODE").exists()
    assert world.client("member").put(detail(variable_id), {"value": "x"}, format="json").status_code == 405


def test_a_sensitive_value_turns_plain_only_with_a_new_value(world):
    variable_id = create(world, name="TOKEN", value="hidden", is_sensitive=True).json()["uuid"]
    refused = world.client("owner").patch(detail(variable_id), {"is_sensitive": False}, format="json")
    assert refused.status_code == 400 and "is_sensitive" in refused.json()
    assert b"hidden" not in refused.content
    plain = world.client("owner").patch(detail(variable_id), {"is_sensitive": False, "value": "shown"}, format="json")
    assert plain.status_code == 200 and plain.json()["value"] == "shown"


@pytest.mark.parametrize(
    "name, message",
    [
        ("PORT", "platform's"),
        ("DATABASE_URL", "platform's"),
        ("EXTRA_DATABASE_URL", "platform's"),
        ("DEFAULT_STORAGE_DSN", "platform's"),
        ("1ABC", "POSIX name"),
        ("WITH-DASH", "POSIX name"),
        ("", "blank"),
        ("A" * 256, "255"),
    ],
)
def test_names_are_validated(world, name, message):
    response = create(world, name=name, value="v")
    assert response.status_code == 400
    assert message in response.json()["name"][0]
    assert not EnvironmentVariable.objects.filter(value="v").exists()


def test_a_name_is_set_once_per_environment(world):
    assert create(world, name="ONCE", value="1").status_code == 201
    again = create(world, name="ONCE", value="2")
    assert again.status_code == 400 and "PATCH" in again.json()["name"][0]
    live = create(world, name="ONCE", value="3", environment=encode_id(env_of(world, "live").pk))
    assert live.status_code == 201


def test_values_are_bounded(world):
    response = create(world, name="BIG", value="x" * (32 * 1024 + 1))
    assert response.status_code == 400 and "value" in response.json()
    assert create(world, name="BIG", value="x" * (32 * 1024)).status_code == 201


def test_another_organisations_environment_is_refused_as_unknown(world):
    response = create(world, "member", name="X", value="y", environment=encode_id(env_of(world, app="other").pk))
    assert response.status_code == 400 and "environment" in response.json()
    assert not EnvironmentVariable.objects.filter(name="X").exists()


def test_pending_deployment_follows_changes_and_successful_deployments(world):
    environment = env_of(world)
    variable_id = create(world, name="A", value="1").json()["uuid"]
    environment_url = api_url("api:environment-detail", uuid=environment.pk)
    assert world.client("member").get(environment_url).json()["variables_pending"] is True
    # What deployment_finish records for a successful deployment queued after the change.
    Environment.objects.filter(pk=environment.pk).update(variables_deployed_at=timezone.now())
    assert world.client("member").get(environment_url).json()["variables_pending"] is False
    assert world.client("member").get(detail(variable_id)).json()["pending_deployment"] is False
    world.client("member").patch(detail(variable_id), {"value": "2"}, format="json")
    assert world.client("member").get(environment_url).json()["variables_pending"] is True


def test_form_encoded_writes_work_like_divio_scripts(world):
    response = world.client("member").post(
        api_url(LIST), {"environment": encode_id(env_of(world).pk), "name": "FORM", "value": "posted"}
    )
    assert response.status_code == 201 and response.json()["value"] == "posted"

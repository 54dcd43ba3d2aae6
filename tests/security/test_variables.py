"""Variables users write: sensitive values never come back, credentials and platform names cannot be taken."""

import logging

from django.utils import timezone

from appcontrol.applications.models import EnvironmentVariable
from appcontrol.core.ids import encode_id
from appcontrol.deployments.models import Deployment
from appcontrol.deployments.pipeline import release_variables
from tests.conftest import api_url

SECRET = "never-shown-7d1c"


def test_a_write_only_value_appears_in_no_answer_and_no_log(world, caplog):
    caplog.set_level(logging.DEBUG)
    test = world.apps["acme"].environments.get(slug="test")
    owner = world.client("owner")
    body = {"environment": encode_id(test.pk), "name": "API_KEY", "value": SECRET, "is_sensitive": True}
    answers = [owner.post(api_url("api:environment-variable-list"), body, format="json")]
    variable = answers[0].json()["uuid"]
    detail = api_url("api:environment-variable-detail", uuid=variable)
    answers += [
        owner.post(api_url("api:environment-variable-list"), body, format="json"),  # taken: 400
        owner.patch(detail, {"is_sensitive": False}, format="json"),  # refused: 400
        owner.patch(detail, {"value": SECRET + "-2"}, format="json"),
        owner.get(detail),
        owner.get(api_url("api:environment-variable-list")),
        world.client("member").get(api_url("api:environment-variable-list")),
    ]
    for answer in answers:
        assert SECRET.encode() not in answer.content, answer.content
    assert SECRET not in caplog.text


def test_a_deployments_snapshot_keeps_write_only_values_from_owners(world):
    """The release receives the value; the deployment's variables endpoint shows it to nobody."""
    test = world.apps["acme"].environments.get(slug="test")
    EnvironmentVariable.objects.create(environment=test, name="API_KEY", value=SECRET, is_sensitive=True)
    snapshot = release_variables(test, port=20000)
    assert snapshot["API_KEY"]["value"] == SECRET
    deployment = Deployment.objects.create(
        environment=test, application=test.application, ended_at=timezone.now(), environment_variables=snapshot
    )
    path = api_url("api:deployment-environment-variables", uuid=deployment.pk)
    shown = world.client("owner").get(path).json()["environment_variables"]
    assert shown["API_KEY"] is None and shown["SECRET_KEY"] is None and shown["STAGE"] == "test"


def test_members_cannot_take_over_credential_names_before_an_instance_does(world):
    """A user variable named DATABASE_URL would be overwritten by (or shadow) the instance's credentials."""
    test = world.apps["acme"].environments.get(slug="test")
    for name in ("DATABASE_URL", "EXTRA_DATABASE_URL", "DEFAULT_STORAGE_DSN", "PORT"):
        body = {"environment": encode_id(test.pk), "name": name, "value": "postgres://attacker"}
        response = world.client("member").post(api_url("api:environment-variable-list"), body, format="json")
        assert response.status_code == 400, name
    assert not EnvironmentVariable.objects.filter(value="postgres://attacker").exists()

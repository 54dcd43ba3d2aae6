"""Service functions validate what they create, and deletions say what blocks them and leave nothing behind."""

import pytest
from django.core.exceptions import ValidationError

from appcontrol.applications.services import application_create, environment_create
from tests.backups.helpers import env_of, take_backup
from tests.conftest import api_url


def test_application_create_validates_whoever_calls(world):
    with pytest.raises(ValidationError) as error:
        application_create(organisation=world.acme, slug="Bad Slug!", name="Bad")
    assert "slug" in error.value.message_dict


def test_environment_create_validates_the_branch(world):
    with pytest.raises(ValidationError) as error:
        environment_create(application=world.apps["acme"], slug="staging", branch="a..b")
    assert "branch" in error.value.message_dict


def test_an_application_with_service_instances_says_what_blocks_its_deletion(world, provision, run_jobs):
    instance = provision(env_of(world, "live"), "sqlite")
    owner = world.client("owner")
    url = api_url("api:application-detail", uuid=world.apps["acme"].pk)
    refused = owner.delete(url)
    assert refused.status_code == 409
    message = refused.json()["non_field_errors"][0]
    assert "still has service instances" in message and "DATABASE DEFAULT in live" in message
    with run_jobs():
        assert owner.delete(api_url("api:service-instance-detail", uuid=instance.pk)).status_code == 204
        assert owner.delete(url).status_code == 204


def test_deleting_an_environment_removes_its_backup_artifacts(world, provision, run_jobs, settings):
    environment = env_of(world, "test")
    instance = provision(environment, "sqlite")
    take_backup(world, run_jobs, environment)
    assert [p for p in settings.APPCONTROL_BACKUP_DIR.rglob("*") if p.is_file()]
    owner = world.client("owner")
    with run_jobs():
        owner.delete(api_url("api:service-instance-detail", uuid=instance.pk))
        assert owner.delete(api_url("api:environment-detail", uuid=environment.pk)).status_code == 204
    assert not [p for p in settings.APPCONTROL_BACKUP_DIR.rglob("*") if p.is_file()]

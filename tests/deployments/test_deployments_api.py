"""Deployments, builds and repositories through the API, without a container engine: the rules that hold
whatever runs the releases."""

from datetime import timedelta

import pytest
from django.utils import timezone

from appcontrol.accounts.models import Role
from appcontrol.applications.models import EnvironmentVariable, Repository
from appcontrol.core.ids import encode_id
from appcontrol.core.jobs import jobs_reap
from appcontrol.deployments.models import Build, Deployment, Release
from tests.conftest import api_url

from .helpers import deploy, deployment_log


def test_without_a_container_engine_a_deployment_fails_at_once_naming_the_setting(world, run_jobs):
    test = world.apps["acme"].environments.get(slug="test")
    deployment = deploy(world, run_jobs, test)
    assert deployment["success"] is False and deployment["status"] == "failed"
    assert "APPCONTROL_DOCKER_HOST" in deployment["errors"]
    assert deployment_log(world, deployment).splitlines()[-1].endswith(deployment["errors"])
    environment = world.client("member").get(api_url("api:environment-detail", uuid=test.pk)).json()
    assert environment["last_finished_deployment"] == {"uuid": deployment["uuid"]}
    assert environment["url"] == "http://example-application-test.localhost:8080/"


def test_a_second_deployment_while_one_runs_is_409_naming_the_running_one(world):
    test = world.apps["acme"].environments.get(slug="test")
    client = world.client("member")
    first = client.post(api_url("api:deployment-list"), {"environment": encode_id(test.pk)}, format="json")
    assert first.status_code == 201
    assert (first.json()["ended_at"], first.json()["success"], first.json()["status"]) == (None, None, "queued")
    second = client.post(api_url("api:deployment-list"), {"environment": encode_id(test.pk)})  # form-encoded
    assert second.status_code == 409
    assert first.json()["uuid"] in second.json()["non_field_errors"][0]
    live = world.apps["acme"].environments.get(slug="live")
    assert client.post(api_url("api:deployment-list"), {"environment": encode_id(live.pk)}).status_code == 201


@pytest.mark.parametrize("mode", ["auto", "QUICK", ""])
def test_an_unknown_build_mode_is_400(world, mode):
    test = world.apps["acme"].environments.get(slug="test")
    response = world.client("member").post(
        api_url("api:deployment-list"), {"environment": encode_id(test.pk), "build_mode": mode}, format="json"
    )
    assert response.status_code == 400 and "build_mode" in response.json()
    assert not Deployment.objects.exists()


def test_a_rollback_takes_only_a_successful_build_of_the_same_application(world):
    test = world.apps["acme"].environments.get(slug="test")
    failed = Build.objects.create(
        application=world.apps["acme"], branch="main", commit="a" * 40, image="x", success=False
    )
    foreign = Build.objects.create(
        application=world.apps["other"], branch="main", commit="b" * 40, image="y", success=True
    )
    client = world.client("member")
    for build, status in [(failed, 400), (foreign, 400)]:
        body = {"environment": encode_id(test.pk), "build": encode_id(build.pk)}
        assert client.post(api_url("api:deployment-list"), body, format="json").status_code == status
    assert not Deployment.objects.exists()


def test_lists_filter_and_put_the_newest_first(world):
    test, live = (world.apps["acme"].environments.get(slug=slug) for slug in ("test", "live"))
    now = timezone.now()
    older = Deployment.objects.create(environment=test, application=test.application, success=True, ended_at=now)
    newer = Deployment.objects.create(environment=live, application=live.application, created_at=now + timedelta(1))
    client = world.client("member")
    listed = client.get(api_url("api:deployment-list", query=f"application={encode_id(test.application_id)}")).json()
    assert [item["uuid"] for item in listed["results"]] == [encode_id(newer.pk), encode_id(older.pk)]
    only_test = client.get(api_url("api:deployment-list", query=f"environment={encode_id(test.pk)}")).json()
    assert [item["uuid"] for item in only_test["results"]] == [encode_id(older.pk)]
    succeeded = client.get(api_url("api:deployment-list", query="success=true")).json()
    assert [item["uuid"] for item in succeeded["results"]] == [encode_id(older.pk)]


def test_variables_of_a_deployment_hide_sensitive_values_from_members(world):
    test = world.apps["acme"].environments.get(slug="test")
    deployment = Deployment.objects.create(
        environment=test,
        application=test.application,
        ended_at=timezone.now(),
        environment_variables={
            "STAGE": {"value": "test", "sensitive": False},
            "SECRET_KEY": {"value": "s3cr3t", "sensitive": True},
        },
    )
    path = api_url("api:deployment-environment-variables", uuid=deployment.pk).rstrip("/")  # as divio-cli asks
    member = world.client("member").get(path).json()
    assert member == {"environment": encode_id(test.pk), "environment_variables": {"SECRET_KEY": None, "STAGE": "test"}}
    owner = world.client("owner").get(path).json()
    assert owner["environment_variables"]["SECRET_KEY"] is None  # written once, read by nobody
    detail = world.client("member").get(api_url("api:deployment-detail", uuid=deployment.pk)).json()
    assert detail["environment_variables"] == ["SECRET_KEY", "STAGE"]
    credentials = dict(deployment.environment_variables, DATABASE_URL={"value": "postgres://x", "sensitive": True})
    Deployment.objects.filter(pk=deployment.pk).update(environment_variables=credentials)
    assert world.client("owner").get(path).json()["environment_variables"]["DATABASE_URL"] == "postgres://x"


def test_a_deployment_whose_worker_died_ends_failed_and_switches_nothing(world, settings):
    test = world.apps["acme"].environments.get(slug="test")
    serving = Deployment.objects.create(
        environment=test, application=test.application, success=True, ended_at=timezone.now(), port=20001
    )
    Release.objects.create(environment=test, deployment=serving)
    stale = timezone.now() - timedelta(seconds=settings.APPCONTROL_JOB_STALE_SECONDS + 5)
    dead = Deployment.objects.create(
        environment=test,
        application=test.application,
        status="health-checking",
        percent=80,
        started_at=stale,
        heartbeat_at=stale,
        container="appcontrol-x-web",
        port=20002,
    )
    assert jobs_reap() == 1
    dead.refresh_from_db()
    assert (dead.success, dead.status, dead.percent) == (False, "failed", 80)
    assert dead.ended_at is not None and "worker stopped" in dead.errors
    assert Release.objects.get(environment=test).deployment == serving


def test_an_application_takes_a_repository_of_its_own_organisation_only(world):
    own = Repository.objects.create(organisation=world.acme, url="https://git.example.com/a.git")
    foreign = Repository.objects.create(organisation=world.other, url="https://git.example.com/b.git")
    client = world.client("member")
    url = api_url("api:application-detail", uuid=world.apps["acme"].pk)
    assert client.patch(url, {"repository": encode_id(foreign.pk)}, format="json").status_code == 400
    response = client.patch(
        url,
        {"repository": encode_id(own.pk), "release_commands": [{"label": "migrate", "command": "manage.py migrate"}]},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["repository"] == encode_id(own.pk)
    assert response.json()["release_commands"] == [{"label": "migrate", "command": "manage.py migrate"}]
    shown = client.get(api_url("api:repository-detail", uuid=own.pk)).json()
    assert (shown["dsn"], shown["state"]) == ("https://git.example.com/a.git", "CLONING")


def test_an_unreachable_repository_ends_invalid_with_git_s_reason(world, run_jobs):
    world.users["member"].is_superuser = True  # file:// is for operators
    world.users["member"].save()
    with run_jobs():
        response = world.client("member").post(
            api_url("api:repository-list"),
            {"organisation": encode_id(world.acme.pk), "url": "file:///nonexistent/repository.git"},
            format="json",
        )
    assert response.status_code == 201, response.json()
    shown = world.client("member").get(api_url("api:repository-detail", uuid=response.json()["uuid"])).json()
    assert shown["state"] == "INVALID"
    assert shown["reason"].startswith("Cannot clone file:///nonexistent/repository.git: fatal:"), shown["reason"]
    assert "does not appear to be a git repository" in shown["reason"]


def test_secret_key_is_made_once_per_environment(world):
    from appcontrol.deployments.services import secret_key_for

    test = world.apps["acme"].environments.get(slug="test")
    secret_key_for(test)
    first = EnvironmentVariable.objects.get(environment=test, name="SECRET_KEY")
    secret_key_for(test)
    assert EnvironmentVariable.objects.get(environment=test, name="SECRET_KEY").value == first.value
    assert first.is_sensitive and len(first.value) >= 50


def test_read_only_tokens_cannot_deploy(world):
    world.add_actor("reader", world.acme, Role.MEMBER, read_only=True)
    test = world.apps["acme"].environments.get(slug="test")
    response = world.client("reader").post(api_url("api:deployment-list"), {"environment": encode_id(test.pk)})
    assert response.status_code == 403


def test_a_successful_deployment_applies_the_variables_changed_before_it_was_queued(world):
    from appcontrol.applications.models import Environment
    from appcontrol.deployments.services import deployment_finish

    test = world.apps["acme"].environments.get(slug="test")
    Environment.objects.filter(pk=test.pk).update(variables_changed_at=timezone.now())
    failed = Deployment.objects.create(environment=test, application=test.application)
    deployment_finish(deployment=failed, success=False)
    test.refresh_from_db()
    assert test.variables_deployed_at is None
    succeeded = Deployment.objects.create(environment=test, application=test.application)
    deployment_finish(deployment=succeeded, success=True)
    test.refresh_from_db()
    assert test.variables_deployed_at == succeeded.created_at > test.variables_changed_at

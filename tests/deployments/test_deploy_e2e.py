"""Deployments for real: the demo application built by a real Docker Engine, released, health-checked and
served through a real Caddy, by host name."""

import pytest

from appcontrol.applications.models import EnvironmentVariable
from appcontrol.deployments.logs import collect_all
from appcontrol.deployments.models import Build, Release

from .fixtures import RequestLoop, through_router
from .helpers import deploy, deployment_log


def environment(world, slug):
    return world.apps["acme"].environments.get(slug=slug)


@pytest.mark.parametrize("engine", ["docker", "swarm"], indirect=True)
def test_deploy_builds_releases_and_serves_by_host_name(world, run_jobs, engine, deployable, settings):
    test = environment(world, "test")
    EnvironmentVariable.objects.create(environment=test, name="GREETING", value="hello")

    deployment = deploy(world, run_jobs, test)

    assert deployment["success"] is True, deployment["errors"]
    assert (deployment["status"], deployment["percent"]) == ("done", 100)
    assert {"STAGE", "DOMAIN", "GIT_BRANCH", "SECRET_KEY", "PORT", "GREETING"} <= set(
        deployment["environment_variables"]
    )
    assert through_router(settings, test) == (200, "version=1 stage=test greeting=hello\n")
    log = deployment_log(world, deployment)
    assert "release: migrating the test database" in log  # the release command ran, with the variables
    assert "Health check" in log and "Done: the new release serves." in log
    env_detail = world.client("member").get(f"/apps/v3/environments/{deployment['environment']}/").json()
    assert env_detail["last_finished_deployment"] == {"uuid": deployment["uuid"]}

    # What the app printed reaches the environment's log, in order, after the release command's lines.
    through_router(settings, test, "/second")
    collect_all(engine)
    logs = world.client("member").get(f"/apps/v3/environments/{deployment['environment']}/logs/").json()
    lines = [(entry["service"], entry["message"]) for entry in logs["results"]]
    assert ("release", "release: migrating the test database") in lines
    web = [message for service, message in lines if service == "web"]
    assert web[0].startswith("demo 1 starting on port") and web[-2:] == ["GET / 200", "GET /second 200"]
    collect_all(engine)  # collecting again adds nothing twice
    assert world.client("member").get(logs["next"]).json()["results"] == []


def test_auto_reuses_the_build_of_the_same_commit_and_force_rebuilds(world, run_jobs, engine, deployable, settings):
    first = deploy(world, run_jobs, environment(world, "test"))
    live = deploy(world, run_jobs, environment(world, "live"), build_mode="AUTO")
    assert live["success"] is True, live["errors"]
    assert live["build"] == first["build"]
    assert "Re-using build" in deployment_log(world, live)
    assert through_router(settings, environment(world, "live"))[1].startswith("version=1 stage=live")

    forced = deploy(world, run_jobs, environment(world, "live"), build_mode="FORCE")
    assert forced["success"] is True, forced["errors"]
    assert forced["build"] != first["build"]
    assert Build.objects.count() == 2


def test_adopt_without_a_build_fails_clearly(world, run_jobs, engine, deployable):
    deployment = deploy(world, run_jobs, environment(world, "test"), build_mode="ADOPT")
    assert deployment["success"] is False
    assert "ADOPT" in deployment["errors"] and "there is none" in deployment["errors"]
    assert deployment_log(world, deployment).splitlines()[-1].endswith(deployment["errors"])


@pytest.mark.parametrize("engine", ["docker", "swarm"], indirect=True)
def test_redeploy_drops_no_request_and_switches_to_the_new_version(
    world, run_jobs, engine, deployable, demo_repository, settings
):
    test = environment(world, "test")
    assert deploy(world, run_jobs, test)["success"] is True
    demo_repository.version(2)
    with RequestLoop(settings, test) as loop:
        deployment = deploy(world, run_jobs, test)
    assert deployment["success"] is True, deployment["errors"]
    assert loop.failures == []
    versions = [answer.split()[0] for answer in loop.answers]
    assert versions[0] == "version=1" and versions[-1] == "version=2"
    assert versions == sorted(versions)  # once switched, never back
    assert len(engine.list()) == 1  # the old release was retired


@pytest.mark.parametrize("engine", ["docker", "swarm"], indirect=True)
def test_rollback_re_releases_an_earlier_build_without_dropping_requests(
    world, run_jobs, engine, deployable, demo_repository, settings
):
    test = environment(world, "test")
    first = deploy(world, run_jobs, test)
    demo_repository.version(2)
    assert deploy(world, run_jobs, test)["success"] is True
    with RequestLoop(settings, test) as loop:
        rollback = deploy(world, run_jobs, test, build=first["build"])
    assert rollback["success"] is True, rollback["errors"]
    assert rollback["build"] == first["build"]
    assert loop.failures == []
    assert through_router(settings, test)[1].startswith("version=1 ")
    assert Build.objects.count() == 2  # nothing rebuilt


BROKEN = {
    "a Dockerfile that fails to build": (
        {"Dockerfile": "FROM appcontrol/base:bookworm\nRUN echo building; exit 7\n"},
        "The build failed",
    ),
    "a web process that never answers": (
        {"Dockerfile": 'FROM appcontrol/base:bookworm\nCOPY . /app\nCMD ["sleep", "600"]\n'},
        "did not become healthy within",
    ),
    "a web process that crashes": (
        {"Dockerfile": 'FROM appcontrol/base:bookworm\nCOPY . /app\nCMD ["sh", "-c", "echo boom; exit 3"]\n'},
        "The web process exited before it answered",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_release_keeps_the_old_one_serving(
    world, run_jobs, engine, deployable, demo_repository, settings, case
):
    settings.APPCONTROL_HEALTH_CHECK_ATTEMPTS = 8
    test = environment(world, "test")
    good = deploy(world, run_jobs, test)
    files, reason = BROKEN[case]
    demo_repository.commit(case, files)

    failed = deploy(world, run_jobs, test)

    assert failed["success"] is False and failed["status"] == "failed"
    assert reason in failed["errors"]
    assert deployment_log(world, failed).splitlines()[-1].endswith(failed["errors"])
    assert through_router(settings, test)[1].startswith("version=1 ")
    assert Release.objects.get(environment=test).deployment_id.hex == _hex(good["uuid"])
    assert [running.labels["org.appcontrol.deployment"] for running in engine.list()] == [good["uuid"]]


def test_a_failing_release_command_switches_nothing(world, run_jobs, engine, deployable, settings):
    test = environment(world, "test")
    deploy(world, run_jobs, test)
    deployable.release_commands = [{"label": "migrate", "command": "echo cannot migrate >&2; exit 3"}]
    deployable.save()

    failed = deploy(world, run_jobs, test, build_mode="AUTO")

    assert failed["success"] is False
    assert failed["errors"] == "The release command 'migrate' exited with code 3; nothing was switched."
    assert "cannot migrate" in deployment_log(world, failed)
    assert through_router(settings, test)[1].startswith("version=1 ")


def test_a_missing_branch_fails_with_its_name(world, run_jobs, engine, deployable, settings):
    test = environment(world, "test")
    test.branch = "no-such-branch"
    test.save()
    failed = deploy(world, run_jobs, test)
    assert failed["success"] is False
    assert "'no-such-branch' does not exist" in failed["errors"]


def test_an_unreachable_repository_fails_the_deployment(world, run_jobs, engine, deployable, demo_repository):
    test = environment(world, "test")
    deploy(world, run_jobs, test)
    repository = deployable.repository
    repository.url = "git://127.0.0.1:9/nothing-listens-here.git"
    repository.save()
    failed = deploy(world, run_jobs, test)
    assert failed["success"] is False
    assert failed["errors"]  # git's own words, e.g. "unable to connect to 127.0.0.1"


def _hex(encoded: str) -> str:
    from appcontrol.core.ids import decode_id

    return decode_id(encoded).hex


def test_a_copied_environment_deploys_and_serves(world, run_jobs, engine, deployable, settings):
    """The issue's flow: copy live into a new environment to try a change; it deploys with the copied
    variables and its own host name."""
    from appcontrol.applications.models import Environment
    from appcontrol.backups.copies import environment_copy

    live = environment(world, "live")
    EnvironmentVariable.objects.create(environment=live, name="GREETING", value="copied")
    with run_jobs():
        copy = environment_copy(source=live, new_slug="try-it")
    deployment = deploy(world, run_jobs, Environment.objects.get(pk=copy.pk))
    assert deployment["success"] is True, deployment["errors"]
    assert through_router(settings, copy) == (200, "version=1 stage=try-it greeting=copied\n")

import pytest

from appcontrol.applications.models import Environment
from appcontrol.core.ids import encode_id
from tests.conftest import api_url

LIST = "api:environment-list"


def env_of(world, slug="test", app="acme"):
    return world.apps[app].environments.get(slug=slug)


def detail(env):
    return api_url("api:environment-detail", uuid=env.pk)


def test_seed_step_two_environments_of_an_application(world):
    app_id = encode_id(world.apps["acme"].pk)
    body = world.client("member").get(api_url(LIST, query=f"application={app_id}")).json()
    assert sorted(env["slug"] for env in body["results"]) == ["live", "test"]
    for env in body["results"]:
        assert env["application"] == app_id
        assert {"uuid", "slug", "branch", "last_finished_deployment", "application"} <= set(env)
        assert env["last_finished_deployment"] is None


def test_filter_by_application_and_slug_like_divio_cli(world):
    app_id = encode_id(world.apps["acme"].pk)
    body = world.client("member").get(api_url(LIST, query=f"application={app_id}&slug=live")).json()
    assert body["count"] == 1
    assert body["results"][0]["uuid"] == encode_id(env_of(world, "live").pk)


def test_filtering_by_another_organisations_application_finds_nothing(world):
    app_id = encode_id(world.apps["other"].pk)
    assert world.client("member").get(api_url(LIST, query=f"application={app_id}")).json()["count"] == 0


@pytest.mark.parametrize("actor, status", [(None, 401), ("outsider", 404), ("member", 200)])
def test_detail_by_actor(world, actor, status):
    assert world.client(actor).get(detail(env_of(world))).status_code == status


def test_create_environment(world):
    body = {"application": encode_id(world.apps["acme"].pk), "slug": "staging", "branch": "release"}
    response = world.client("member").post(api_url(LIST), body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["slug"] == "staging"
    assert Environment.objects.filter(application=world.apps["acme"], slug="staging", branch="release").exists()


def test_duplicate_environment_slug_is_400(world):
    body = {"application": encode_id(world.apps["acme"].pk), "slug": "live"}
    response = world.client("member").post(api_url(LIST), body, format="json")
    assert response.status_code == 400
    assert response.json() == {"slug": ["This application already has an environment with this slug."]}


def test_create_in_another_organisations_application_is_400(world):
    body = {"application": encode_id(world.apps["acme"].pk), "slug": "sneaky"}
    response = world.client("outsider").post(api_url(LIST), body, format="json")
    assert response.status_code == 400
    assert "application" in response.json()


def test_update_branch_but_not_slug_or_application(world):
    env = env_of(world)
    response = world.client("member").patch(
        detail(env),
        {"branch": "feature/x", "slug": "renamed", "application": encode_id(world.apps["other"].pk)},
        format="json",
    )
    assert response.status_code == 200
    env.refresh_from_db()
    assert (env.branch, env.slug, env.application) == ("feature/x", "test", world.apps["acme"])


def test_bad_branch_update_is_400(world):
    response = world.client("member").patch(detail(env_of(world)), {"branch": "no spaces"}, format="json")
    assert response.status_code == 400
    assert "branch" in response.json()


@pytest.mark.parametrize("actor, status", [("outsider", 404), ("member", 403), ("admin", 204)])
def test_delete_needs_admin_or_owner(world, actor, status):
    env = env_of(world)
    assert world.client(actor).delete(detail(env)).status_code == status
    assert Environment.objects.filter(pk=env.pk).exists() == (status != 204)


@pytest.mark.parametrize("form", [True, False])
def test_an_environment_is_created_from_json_and_form_bodies(world, form):
    body = {"application": encode_id(world.apps["acme"].pk), "slug": "staging", "auto_deploy": True}
    response = world.client("member").post(api_url(LIST), body, **({} if form else {"format": "json"}))
    assert response.status_code == 201, response.content
    assert response.json()["auto_deploy"] is True

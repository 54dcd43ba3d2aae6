"""Applications through the API, with every kind of caller."""

import pytest

from appcontrol.applications.models import Application, Environment, PlanGroup
from appcontrol.core.ids import encode_id
from tests.conftest import api_url

LIST = "api:application-list"


def detail(app):
    return api_url("api:application-detail", uuid=app.pk)


def new_app_body(world, **overrides):
    return {"slug": "new-app", "name": "New app", "organisation": encode_id(world.acme.pk), **overrides}


@pytest.mark.parametrize("actor, status", [(None, 401), ("outsider", 200), ("member", 200), ("admin", 200)])
def test_list_by_actor(world, actor, status):
    response = world.client(actor).get(api_url(LIST))
    assert response.status_code == status
    if actor == "outsider":
        assert [app["slug"] for app in response.json()["results"]] == ["other-application"]
        assert response.json()["count"] == 1
    elif status == 200:
        assert [app["slug"] for app in response.json()["results"]] == ["example-application"]


def test_seed_lookup_by_slug_gives_exactly_one_result_with_its_uuid(world):
    body = world.client("member").get(api_url(LIST, query="slug=example-application")).json()
    assert body["count"] == 1
    app = body["results"][0]
    assert app["uuid"] == encode_id(world.apps["acme"].pk)
    assert {
        "uuid", "slug", "name", "organisation", "region", "repository", "git_url", "release_commands", "created_at"
    } == set(app)  # fmt: skip
    assert app["organisation"] == encode_id(world.acme.pk)
    assert app["repository"] is None
    # Without a repository of its own, the application is pushed to the server (hosted git).
    assert app["git_url"] == "http://testserver/git/acme/example-application.git"


def test_slug_of_another_organisation_finds_nothing(world):
    body = world.client("member").get(api_url(LIST, query="slug=other-application")).json()
    assert body == {"count": 0, "next": None, "previous": None, "results": []}


@pytest.mark.parametrize("form", [encode_id, str])
def test_filter_by_organisation_accepts_base32_and_dashed(world, form):
    body = world.client("member").get(api_url(LIST, query=f"organisation={form(world.acme.pk)}")).json()
    assert body["count"] == 1


def test_malformed_filter_is_a_400_naming_the_filter(world):
    response = world.client("member").get(api_url(LIST, query="organisation=not-an-id"))
    assert response.status_code == 400
    assert response.json() == {"organisation": ["Enter a valid id."]}


@pytest.mark.parametrize("actor, status", [(None, 401), ("outsider", 404), ("member", 200), ("admin", 200)])
def test_detail_by_actor(world, actor, status):
    assert world.client(actor).get(detail(world.apps["acme"])).status_code == status


def test_detail_by_dashed_id(world):
    app = world.apps["acme"]
    response = world.client("member").get(f"/apps/v3/applications/{app.pk}/")
    assert response.json()["uuid"] == encode_id(app.pk)


def test_member_creates_application_with_test_and_live(world):
    response = world.client("member").post(api_url(LIST), new_app_body(world, branch="develop"), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["slug"] == "new-app" and body["organisation"] == encode_id(world.acme.pk)
    assert body["region"] == encode_id(world.region.pk)
    assert "branch" not in body
    app = Application.objects.get(slug="new-app")
    assert sorted(app.environments.values_list("slug", "branch")) == [
        ("live", "develop"),
        ("test", "develop"),
    ]


def test_create_accepts_divio_cli_extra_fields(world):
    body = new_app_body(
        world,
        plan_group=encode_id(PlanGroup.objects.get().pk),
        app_template=None,
        release_commands=None,
        repository=None,
        region=encode_id(world.region.pk),
    )
    response = world.client("member").post(api_url(LIST), body, format="json")
    assert response.status_code == 201, response.json()


@pytest.mark.parametrize("field", ["name", "slug"])
def test_validator_calls_with_one_field_return_400_and_create_nothing(world, field):
    response = world.client("member").post(api_url(LIST), {field: "valid-value"}, format="json")
    assert response.status_code == 400
    errors = response.json()
    assert field not in errors  # the value itself is fine; the CLI reads only this key
    assert Application.objects.count() == 2


@pytest.mark.parametrize(
    "slug, message",
    [
        ("example-application", "This slug is already taken."),
        ("Bad Slug", "Use lower-case letters, digits and hyphens; start and end with a letter or digit."),
        ("-bad", "Use lower-case letters, digits and hyphens; start and end with a letter or digit."),
        ("x" * 64, "Ensure this field has no more than 63 characters."),
    ],
)
def test_bad_slugs_are_400_with_a_message(world, slug, message):
    response = world.client("member").post(api_url(LIST), new_app_body(world, slug=slug), format="json")
    assert response.status_code == 400
    assert message in response.json()["slug"]


def test_taken_slug_of_another_organisation_is_also_taken(world):
    response = world.client("member").post(api_url(LIST), new_app_body(world, slug="other-application"), format="json")
    assert response.json() == {"slug": ["This slug is already taken."]}


def test_cannot_create_in_an_organisation_you_are_not_in(world):
    response = world.client("outsider").post(api_url(LIST), new_app_body(world), format="json")
    assert response.status_code == 400
    assert "organisation" in response.json()
    assert not Application.objects.filter(slug="new-app").exists()


@pytest.mark.parametrize("bad", [123, None, ["x"], "nope"])
def test_bad_organisation_values_are_400(world, bad):
    response = world.client("member").post(api_url(LIST), new_app_body(world, organisation=bad), format="json")
    assert response.status_code == 400
    assert "organisation" in response.json()


def test_bad_branch_is_400(world):
    response = world.client("member").post(api_url(LIST), new_app_body(world, branch="a..b"), format="json")
    assert response.status_code == 400
    assert "branch" in response.json()


def test_update_name_and_slug(world):
    app = world.apps["acme"]
    response = world.client("member").patch(detail(app), {"name": "Renamed", "slug": "renamed"}, format="json")
    assert response.status_code == 200
    app.refresh_from_db()
    assert (app.name, app.slug) == ("Renamed", "renamed")


def test_organisation_cannot_be_changed_by_update(world):
    app = world.apps["acme"]
    world.client("owner").patch(detail(app), {"organisation": encode_id(world.other.pk)}, format="json")
    app.refresh_from_db()
    assert app.organisation == world.acme


def test_outsider_cannot_update(world):
    response = world.client("outsider").patch(detail(world.apps["acme"]), {"name": "x"}, format="json")
    assert response.status_code == 404


@pytest.mark.parametrize("actor, status", [("outsider", 404), ("member", 403), ("admin", 204), ("owner", 204)])
def test_delete_needs_admin_or_owner(world, actor, status):
    app = world.apps["acme"]
    response = world.client(actor).delete(detail(app))
    assert response.status_code == status
    assert Application.objects.filter(pk=app.pk).exists() == (status != 204)
    if status == 204:
        assert not Environment.objects.filter(application_id=app.pk).exists()


def test_delete_anonymous_is_401(world):
    assert world.client(None).delete(detail(world.apps["acme"])).status_code == 401

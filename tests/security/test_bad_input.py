"""Bad input gets a clear 4xx JSON answer, never a 500 or an HTML page."""

import pytest

from tests.conftest import api_url


def assert_json_error(response, status):
    assert response.status_code == status, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json")
    assert response.json()


@pytest.mark.parametrize("name", ["api:backup-list", "api:application-list", "api:backup-restore-list"])
def test_deeply_nested_json_is_a_400(world, name):
    body = "[" * 5000 + "]" * 5000
    response = world.client("member").post(api_url(name), body, content_type="application/json")
    assert_json_error(response, 400)
    assert "nested" in response.json()["detail"]


def test_a_body_over_the_limit_is_a_413(world, settings):
    body = '{"notes": "' + "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10) + '"}'
    response = world.client("member").post(api_url("api:backup-list"), body, content_type="application/json")
    assert_json_error(response, 413)


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_dates_at_the_ends_of_the_calendar_are_a_400(world, value):
    response = world.client("member").get(api_url("api:backup-list"), {"created_after": value})
    assert_json_error(response, 400)
    assert "created_after" in response.json()


@pytest.mark.parametrize("branch", ["-lead", "a..b", "main.lock", "a/.hidden", "with space", "a@{1}", "ends.", "x//y"])
def test_branch_names_must_be_git_refs(world, branch):
    env = world.apps["acme"].environments.get(slug="test")
    response = world.client("member").patch(api_url("api:environment-detail", uuid=env.pk), {"branch": branch})
    assert response.status_code == 400, response.json()
    assert "branch" in response.json()


@pytest.mark.parametrize("branch", ["main", "feature/new-thing", "release-1.2", "UPPER_case"])
def test_ordinary_branch_names_are_accepted(world, branch):
    env = world.apps["acme"].environments.get(slug="test")
    response = world.client("member").patch(api_url("api:environment-detail", uuid=env.pk), {"branch": branch})
    assert response.status_code == 200, response.json()

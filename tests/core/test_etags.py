"""ETags: polls that find nothing new cost no body; writes based on a stale read are refused."""

import pytest

from tests.conftest import api_url


@pytest.fixture
def app_url(world):
    return api_url("api:application-detail", uuid=world.apps["acme"].pk)


def test_details_and_lists_carry_an_etag_that_changes_with_them(world, app_url):
    client = world.client("owner")
    detail = client.get(app_url)
    listing = client.get(api_url("api:application-list"))
    assert detail["ETag"].startswith('"') and listing["ETag"].startswith('"')
    assert client.get(app_url)["ETag"] == detail["ETag"]
    client.patch(app_url, {"name": "Renamed"}, format="json")
    assert client.get(app_url)["ETag"] != detail["ETag"]
    assert client.get(api_url("api:application-list"))["ETag"] != listing["ETag"]


def test_if_none_match_answers_304_without_a_body(world, app_url):
    client = world.client("owner")
    etag = client.get(app_url)["ETag"]
    unchanged = client.get(app_url, HTTP_IF_NONE_MATCH=etag)
    assert unchanged.status_code == 304 and unchanged.content == b""
    assert unchanged["ETag"] == etag and "RateLimit-Remaining" in unchanged
    assert client.get(app_url, HTTP_IF_NONE_MATCH=f'"other", W/{etag}').status_code == 304
    client.patch(app_url, {"name": "Renamed"}, format="json")
    changed = client.get(app_url, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed.json()["name"] == "Renamed"


def test_the_etag_does_not_depend_on_indentation(world, app_url):
    client = world.client("owner")
    compact = client.get(app_url)
    indented = client.get(app_url, HTTP_ACCEPT="text/html,application/xhtml+xml,*/*;q=0.8")
    assert b"\n" in indented.content and compact.content != indented.content
    assert indented["ETag"] == compact["ETag"]
    asked = client.get(app_url, HTTP_ACCEPT="application/json; indent=4")
    assert b"\n" in asked.content and asked["ETag"] == compact["ETag"]


def test_if_match_refuses_a_write_based_on_a_stale_read(world, app_url):
    owner, admin = world.client("owner"), world.client("admin")
    etag = owner.get(app_url)["ETag"]
    assert admin.patch(app_url, {"name": "Admin's"}, format="json", HTTP_IF_MATCH=etag).status_code == 200
    stale = owner.patch(app_url, {"name": "Owner's"}, format="json", HTTP_IF_MATCH=etag)
    assert stale.status_code == 412 and "changed since you read it" in stale.json()["detail"]
    assert owner.get(app_url).json()["name"] == "Admin's"
    assert owner.delete(app_url, HTTP_IF_MATCH=etag).status_code == 412
    # With the current ETag (or `*`), the write goes through.
    current = owner.get(app_url)["ETag"]
    assert owner.patch(app_url, {"name": "Owner's"}, format="json", HTTP_IF_MATCH=current).status_code == 200
    assert owner.patch(app_url, {"name": "Any"}, format="json", HTTP_IF_MATCH="*").status_code == 200


def test_if_match_on_a_hidden_object_is_still_404(world):
    url = api_url("api:application-detail", uuid=world.apps["other"].pk)
    assert world.client("owner").patch(url, {"name": "x"}, format="json", HTTP_IF_MATCH='"x"').status_code == 404


def test_errors_and_writes_carry_no_etag(world, app_url):
    client = world.client("owner")
    assert "ETag" not in client.get("/apps/v3/applications/not-an-id/")
    assert "ETag" not in client.patch(app_url, {"name": "x"}, format="json")

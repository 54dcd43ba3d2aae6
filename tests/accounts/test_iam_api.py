import pytest

from tests.conftest import api_url, client_for


def test_me_returns_the_fields_divio_cli_checks(world):
    body = world.client("member").get(api_url("iam:me")).json()
    assert body["email"] == "member@example.com"
    assert {"uuid", "first_name", "last_name", "email", "created_at", "timezone"} <= set(body)
    assert len(body["uuid"]) == 26


def test_me_without_slash_works(world):
    assert world.client("member").get("/iam/v3/me").status_code == 200


@pytest.mark.django_db
def test_me_needs_a_token():
    assert client_for(None).get(api_url("iam:me")).status_code == 401


def test_organisations_lists_only_my_organisations_with_my_role(world):
    body = world.client("admin").get(api_url("iam:organisation-list")).json()
    assert body["count"] == 1
    assert body["results"][0]["slug"] == "acme"
    assert body["results"][0]["role"] == "admin"
    assert {"uuid", "name", "created_at"} <= set(body["results"][0])


def test_organisation_detail_by_base32_and_dashed_id(world):
    client = world.client("member")
    by_base32 = client.get(api_url("iam:organisation-detail", uuid=world.acme.pk))
    by_dashed = client.get(f"/iam/v3/organisations/{world.acme.pk}/")
    assert by_base32.status_code == by_dashed.status_code == 200
    assert by_base32.json() == by_dashed.json()
    assert by_base32.json()["name"] == "Acme"


def test_another_organisation_is_404_not_403(world):
    response = world.client("outsider").get(api_url("iam:organisation-detail", uuid=world.acme.pk))
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


@pytest.mark.parametrize("bad", ["nope", "bagztldeadfdhlilnmpzx3twlz", "12345"])
def test_malformed_id_in_path_is_json_404(world, bad):
    response = world.client("member").get(f"/iam/v3/organisations/{bad}/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_organisation_filter_by_slug(world):
    body = world.client("member").get(api_url("iam:organisation-list", query="slug=nope")).json()
    assert body["count"] == 0

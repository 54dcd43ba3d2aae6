import pytest

from appcontrol.applications.models import Domain, Region
from appcontrol.core.ids import encode_id
from tests.conftest import api_url


def test_regions_are_listed_to_any_caller_with_a_token(world):
    body = world.client("outsider").get(api_url("api:region-list")).json()
    assert body["results"] == [{"uuid": encode_id(world.region.pk), "slug": "local", "name": "Local"}]


@pytest.mark.django_db
def test_regions_need_a_token():
    assert api_url("api:region-list")
    from tests.conftest import client_for

    assert client_for(None).get(api_url("api:region-list")).status_code == 401


def test_region_filter_may_repeat_uuid_like_divio_cli(world):
    second = Region.objects.create(slug="eu", name="Europe")
    Region.objects.create(slug="us", name="America")
    query = f"uuid={encode_id(world.region.pk)}&uuid={second.pk}"
    body = world.client("member").get(api_url("api:region-list", query=query)).json()
    assert sorted(region["slug"] for region in body["results"]) == ["eu", "local"]


def test_region_filter_with_a_bad_id_is_400(world):
    response = world.client("member").get(api_url("api:region-list", query="uuid=zzz"))
    assert response.status_code == 400


def test_domains_create_list_filter_delete(world):
    env = world.apps["acme"].environments.get(slug="live")
    client = world.client("member")
    body = {"environment": encode_id(env.pk), "domain": "WWW.Example.com", "is_primary": True}
    created = client.post(api_url("api:domain-list"), body, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["domain"] == "www.example.com"
    second = client.post(api_url("api:domain-list"), {**body, "domain": "example.com"}, format="json")
    assert second.status_code == 201, second.json()
    assert Domain.objects.get(domain="www.example.com").is_primary is False  # the new primary replaced it
    listed = client.get(api_url("api:domain-list", query=f"application={encode_id(world.apps['acme'].pk)}")).json()
    assert listed["count"] == 2
    assert world.client("outsider").get(api_url("api:domain-list")).json()["count"] == 0
    duplicate = client.post(api_url("api:domain-list"), {**body, "domain": "EXAMPLE.com"}, format="json")
    assert duplicate.json() == {"domain": ["This domain is already in use."]}
    invalid = client.post(api_url("api:domain-list"), {**body, "domain": "not a domain"}, format="json")
    assert invalid.status_code == 400
    detail = api_url("api:domain-detail", uuid=Domain.objects.get(domain="example.com").pk)
    assert world.client("outsider").delete(detail).status_code == 404
    assert client.delete(detail).status_code == 204


def test_domain_in_another_organisations_environment_is_400(world):
    env = world.apps["acme"].environments.get(slug="live")
    response = world.client("outsider").post(
        api_url("api:domain-list"),
        {"environment": encode_id(env.pk), "domain": "evil.example"},
        format="json",
    )
    assert response.status_code == 400
    assert "environment" in response.json()

from urllib.parse import parse_qs, urlparse

import pytest

from appcontrol.applications.services import application_create
from appcontrol.core.pagination import PageNumberPagination
from tests.conftest import api_url


@pytest.fixture
def many_apps(world):
    for number in range(25):
        application_create(organisation=world.acme, slug=f"app-{number:02d}", name=f"App {number}")
    return world


def collect(client, url):
    seen, pages = [], 0
    while url:
        body = client.get(url).json()
        seen.extend(item["slug"] for item in body["results"])
        url = body["next"]
        pages += 1
    return seen, pages


def test_walking_next_links_visits_every_item_once_in_a_stable_order(many_apps):
    client = many_apps.client("member")
    first, pages = collect(client, api_url("api:application-list", query="page_size=4"))
    assert pages == 7
    assert len(first) == len(set(first)) == 26
    again, _ = collect(client, api_url("api:application-list", query="page_size=4"))
    assert again == first


def test_next_and_previous_are_absolute_and_keep_filters_and_page_size(many_apps):
    client = many_apps.client("member")
    url = api_url("api:environment-list", query="slug=test&page_size=5")
    body = client.get(url).json()
    assert body["count"] == 26
    assert body["previous"] is None
    next_url = urlparse(body["next"])
    assert next_url.scheme == "http" and next_url.netloc == "testserver"
    assert parse_qs(next_url.query) == {"slug": ["test"], "page_size": ["5"], "page": ["2"]}
    second = client.get(body["next"]).json()
    assert second["previous"].startswith("http://testserver/")
    assert all(item["slug"] == "test" for item in second["results"])


def test_page_size_is_capped_at_the_hard_maximum(many_apps, monkeypatch):
    monkeypatch.setattr(PageNumberPagination, "max_page_size", 10)
    body = many_apps.client("member").get(api_url("api:application-list", query="page_size=100000")).json()
    assert len(body["results"]) == 10
    assert body["count"] == 26


def test_default_maximum_is_enforced_without_override(many_apps, settings):
    """Whatever a client asks for, a page holds at most APPCONTROL_MAX_PAGE_SIZE (500) objects."""
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    request = Request(APIRequestFactory().get("/apps/v3/applications/", {"page_size": "999999"}))
    assert PageNumberPagination().get_page_size(request) == settings.APPCONTROL_MAX_PAGE_SIZE == 500
    body = many_apps.client("member").get(api_url("api:application-list", query="page_size=999999")).json()
    assert len(body["results"]) == 26  # all there are, under the maximum


@pytest.mark.parametrize("page", ["0", "99", "abc"])
def test_a_page_out_of_range_is_a_json_404(many_apps, page):
    response = many_apps.client("member").get(api_url("api:application-list", query=f"page={page}"))
    assert response.status_code == 404
    assert "detail" in response.json()

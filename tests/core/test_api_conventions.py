"""The conventions every apps/v3 endpoint shares: root, JSON errors, slashes, datetimes."""

import json

import pytest
from django.test import RequestFactory

from appcontrol.core import views
from tests.conftest import api_url, client_for

SEED_ROOT_KEYS = {
    "applications",
    "environments",
    "domains",
    "patches",
    "repositories",
    "serviceinstances",
    "deployments",
    "builds",
    "regions",
}


@pytest.mark.django_db
def test_api_root_needs_no_token_and_lists_absolute_urls():
    response = client_for(None).get("/apps/v3/")
    assert response.status_code == 200
    body = response.json()
    assert SEED_ROOT_KEYS <= set(body)
    for url in body.values():
        assert url.startswith("http://testserver/apps/v3/") and url.endswith("/")


def test_every_root_url_answers_with_a_page(world):
    client = world.client("member")
    for key, url in client_for(None).get("/apps/v3/").json().items():
        response = client.get(url)
        assert response.status_code == 200, key
        assert set(response.json()) == {"count", "next", "previous", "results"}, key


def test_divio_cli_path_for_service_instances_and_the_legacy_key_both_answer(world):
    client = world.client("member")
    for path in ["/apps/v3/service-instances/", "/apps/v3/serviceinstances/", "/apps/v3/service-instances"]:
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.json()["results"] == []


@pytest.mark.parametrize("path", ["/apps/v3/no-such-thing/", "/apps/v3/applications/x/y/z/", "/iam/v3/nope", "/apps"])
def test_unknown_api_paths_are_json_404(world, path):
    for client in (world.client("member"), client_for(None)):
        response = client.get(path)
        assert response.status_code == 404
        assert response["Content-Type"] == "application/json"
        assert response.json() == {"detail": "Not found."}


def test_unsupported_method_is_json_405(world):
    response = world.client("member").put(api_url("api:application-list"), {}, format="json")
    assert response.status_code == 405
    assert response.json() == {"detail": 'Method "PUT" not allowed.'}


def test_malformed_json_body_is_a_400_with_detail(world):
    response = world.client("member").generic(
        "POST", api_url("api:application-list"), "{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]


def test_get_with_a_json_body_like_divio_cli_sends_works(world):
    response = world.client("member").generic(
        "GET", api_url("api:application-list"), "{}", content_type="application/json"
    )
    assert response.status_code == 200


def test_trailing_slash_is_optional(world):
    client = world.client("member")
    app = world.apps["acme"]
    with_slash = api_url("api:application-detail", uuid=app.pk)
    assert client.get(with_slash).json() == client.get(with_slash.rstrip("/")).json()
    assert client.get("/apps/v3/applications").status_code == 200


def test_datetimes_are_utc_with_z(world):
    body = world.client("member").get(api_url("api:application-detail", uuid=world.apps["acme"].pk)).json()
    assert body["created_at"].endswith("Z")


def test_form_encoded_bodies_are_accepted(world):
    env = world.apps["acme"].environments.get(slug="test")
    response = world.client("member").patch(
        api_url("api:environment-detail", uuid=env.pk), {"branch": "develop"}, format="multipart"
    )
    assert response.status_code == 200
    assert response.json()["branch"] == "develop"


def test_non_api_pages_keep_html_404(world):
    response = client_for(None).get("/no-such-page/")
    assert response.status_code == 404
    assert "application/json" not in response["Content-Type"]


@pytest.mark.parametrize("host", ["x5/", "evil.example", "a b"])
def test_a_host_header_not_allowed_is_a_json_400(world, host):
    response = world.client("member").get("/apps/v3/domains/?is_primary=false", HTTP_HOST=host)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Bad request."}
    assert "text/html" in client_for(None).get("/accounts/login/", HTTP_HOST=host)["Content-Type"]


@pytest.mark.parametrize(
    ("handler", "status", "detail"),
    [
        (views.not_found, 404, "Not found."),
        (views.bad_request, 400, "Bad request."),
        (views.server_error, 500, "Internal server error."),
        (views.csrf_failure, 403, "CSRF check failed."),
    ],
)
def test_error_pages_are_json_under_the_api_and_html_elsewhere(db, handler, status, detail):
    api = handler(RequestFactory().get("/apps/v3/anything/"))
    assert (api.status_code, api["Content-Type"], json.loads(api.content)) == (
        status,
        "application/json",
        {"detail": detail},
    )
    page = handler(RequestFactory().get("/accounts/anything/"))
    assert page.status_code == status and page["Content-Type"].startswith("text/html")

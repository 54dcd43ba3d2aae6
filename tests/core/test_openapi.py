"""The OpenAPI schema is a tested artifact: served, valid, complete, and true to the responses."""

import pytest
import schemathesis
from django.core import signals
from django.core.management import call_command
from django.db import close_old_connections
from django.test import override_settings
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from appcontrol.wsgi import application
from tests.conftest import client_for

# Loaded at collection, outside any test database: the anonymous request must not count against a limit.
with override_settings(APPCONTROL_RATE_LIMIT_ANONYMOUS=0):
    schema = schemathesis.openapi.from_wsgi("/apps/v3/schema/?format=json", application)


@pytest.mark.django_db
def test_schema_is_served_as_json_and_yaml_without_a_token():
    client = client_for(None)
    as_json = client.get("/apps/v3/schema/?format=json")
    assert as_json.status_code == 200
    assert as_json.json()["openapi"].startswith("3.")
    as_yaml = client.get("/apps/v3/schema/")
    assert as_yaml.status_code == 200
    assert as_yaml.content.startswith(b"openapi: 3.")


@pytest.mark.django_db
def test_docs_page_uses_only_local_assets():
    response = client_for(None).get("/apps/v3/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/" in html
    assert "cdn." not in html and "unpkg" not in html and "jsdelivr" not in html
    asset = html.split('src="')[1].split('"')[0]
    assert client_for(None).get(asset).status_code == 200


def test_schema_generation_has_no_warnings():
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")


@pytest.mark.django_db
def test_schema_documents_errors_and_filters():
    document = client_for(None).get("/apps/v3/schema/?format=json").json()
    operations = {
        op["operationId"]: op for path in document["paths"].values() for op in path.values() if "operationId" in op
    }
    for name in [
        "ListApplications",
        "GetApplication",
        "CreateApplication",
        "ListEnvironments",
        "GetCurrentUser",
    ]:
        assert "401" in operations[name]["responses"], name
    assert {"400", "403"} <= set(operations["CreateApplication"]["responses"])
    assert "404" in operations["GetApplication"]["responses"]
    assert "403" in operations["DeleteApplication"]["responses"]
    filters = {p["name"] for p in operations["ListApplications"]["parameters"]}
    assert {"slug", "organisation", "page", "page_size"} <= filters
    assert {"application", "slug"} <= {p["name"] for p in operations["ListEnvironments"]["parameters"]}
    assert "uuid" in {p["name"] for p in operations["ListRegions"]["parameters"]}
    assert not any(operations["GetApiRoot"].get("security", []))
    assert "401" not in operations["GetApiRoot"]["responses"]


@pytest.fixture
def fuzz_token(world):
    # Schemathesis calls the WSGI app directly, which would close the test's database connection at
    # the end of each request; Django's own test client disconnects this handler in the same way.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield world.tokens["owner"]
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_api_conforms_to_its_schema(case, fuzz_token):
    case.call_and_validate(
        headers={"Authorization": f"Token {fuzz_token}"},
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
    )


@pytest.mark.django_db
def test_schema_documents_rate_limits_etags_and_idempotency_keys():
    document = client_for(None).get("/apps/v3/schema/?format=json").json()
    operations = {
        op["operationId"]: op for path in document["paths"].values() for op in path.values() if "operationId" in op
    }

    def headers_of(operation):
        return {p["name"] for p in operations[operation].get("parameters", []) if p["in"] == "header"}

    for operation in operations.values():
        assert "429" in operation["responses"]
        assert "Retry-After" in operation["responses"]["429"]["headers"]
    assert "If-None-Match" in headers_of("GetBackup") and "304" in operations["GetBackup"]["responses"]
    ok = operations["GetBackup"]["responses"]["200"]["headers"]
    assert {"ETag", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"} <= set(ok)
    assert "Idempotency-Key" in headers_of("CreateBackup")
    assert {"409", "422"} <= set(operations["CreateBackup"]["responses"])
    assert "If-Match" in headers_of("PartialUpdateApplication")
    assert "412" in operations["DeleteApplication"]["responses"]

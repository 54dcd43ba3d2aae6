"""A runaway script or a guessing bot meets a limit: requests a minute per token, and per address for
requests without a valid token; every answer says where its caller stands."""

import pytest
from django.test import override_settings

from appcontrol.accounts.models import Organisation, Role
from appcontrol.accounts.services import membership_set, token_create
from tests.conftest import api_url, client_for
from tests.redis_service import require_redis


@pytest.fixture(params=["database", "redis"])
def counter_store(request, settings):
    settings.APPCONTROL_REDIS_URL = require_redis() if request.param == "redis" else ""
    if request.param == "redis":
        import redis

        redis.Redis.from_url(settings.APPCONTROL_REDIS_URL).flushdb()
    return request.param


@pytest.fixture
def limit_of_five(settings, counter_store):
    settings.APPCONTROL_RATE_LIMIT = 5
    settings.APPCONTROL_RATE_LIMIT_ANONYMOUS = 3


def test_every_answer_carries_the_callers_standing(world, limit_of_five):
    response = world.client("member").get(api_url("api:application-list"))
    assert response.status_code == 200
    assert response["RateLimit-Limit"] == "5"
    assert response["RateLimit-Remaining"] == "4"
    assert 55 <= int(response["RateLimit-Reset"]) <= 60
    missing = world.client("member").get("/apps/v3/applications/not-an-id/")
    assert missing.status_code == 404 and missing["RateLimit-Remaining"] == "3"


def test_over_the_limit_is_429_json_with_retry_after_and_reaches_no_view(world, limit_of_five):
    client = world.client("member")
    for _ in range(5):
        assert client.get(api_url("api:application-list")).status_code == 200
    refused = client.post(api_url("api:application-list"), {"slug": "sneaky", "name": "x"}, format="json")
    assert refused.status_code == 429
    assert refused["Content-Type"] == "application/json"
    assert "5 requests a minute" in refused.json()["detail"]
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert refused["RateLimit-Remaining"] == "0"
    assert not world.acme.applications.filter(slug="sneaky").exists()


def test_each_account_has_its_own_budget_shared_by_its_tokens(world, limit_of_five):
    for _ in range(6):
        world.client("member").get(api_url("api:application-list"))
    assert world.client("member").get(api_url("api:application-list")).status_code == 429
    # More tokens are not more requests …
    _, another = token_create(user=world.users["member"], name="another")
    assert client_for(another).get(api_url("api:application-list")).status_code == 429
    # … but another account is counted on its own.
    assert world.client("owner").get(api_url("api:application-list")).status_code == 200


def test_requests_without_a_valid_token_count_per_address(world, limit_of_five):
    anonymous = client_for(None)
    for _ in range(3):
        assert anonymous.get("/apps/v3/").status_code == 200
    # A made-up token is no way around the address's limit.
    guesser = client_for("apc_" + "x" * 43)
    refused = guesser.get(api_url("api:application-list"))
    assert refused.status_code == 429 and refused["RateLimit-Limit"] == "3"
    elsewhere = client_for(None)
    assert elsewhere.get("/apps/v3/", REMOTE_ADDR="192.0.2.7").status_code == 200
    # A valid token is counted on its own, whatever its address.
    assert world.client("member").get(api_url("api:application-list")).status_code == 200


def test_an_organisations_own_limit_applies_to_its_tokens(world, limit_of_five):
    Organisation.objects.filter(pk=world.acme.pk).update(rate_limit=8)
    _, scoped = token_create(user=world.users["member"], name="scoped", organisation=world.acme)
    response = client_for(scoped).get(api_url("api:application-list"))
    assert response["RateLimit-Limit"] == "8"
    # An unrestricted token takes the lowest limit among its account's organisations: a slowed-down
    # organisation is not escaped through a token for all of them; "no limit" (0) counts for restricted tokens.
    assert world.client("member").get(api_url("api:application-list"))["RateLimit-Limit"] == "8"
    slow = Organisation.objects.create(slug="slow", name="Slow", rate_limit=3)
    unlimited = Organisation.objects.create(slug="unlimited", name="Unlimited", rate_limit=0)
    membership_set(user=world.users["member"], organisation=slow, role=Role.MEMBER)
    membership_set(user=world.users["member"], organisation=unlimited, role=Role.MEMBER)
    assert world.client("member").get(api_url("api:application-list"))["RateLimit-Limit"] == "3"
    _, free = token_create(user=world.users["member"], name="free", organisation=unlimited)
    assert "RateLimit-Limit" not in client_for(free).get(api_url("api:application-list"))
    # Others keep the server's default.
    assert world.client("outsider").get(api_url("api:application-list"))["RateLimit-Limit"] == "5"


def test_an_ipv6_network_counts_as_one_client(world, limit_of_five):
    anonymous = client_for(None)
    for host in range(3):
        anonymous.get("/apps/v3/", REMOTE_ADDR=f"2001:db8:1:2::{host + 1}")
    assert anonymous.get("/apps/v3/", REMOTE_ADDR="2001:db8:1:2:ffff::9").status_code == 429
    assert anonymous.get("/apps/v3/", REMOTE_ADDR="2001:db8:1:3::1").status_code == 200


def test_a_limit_of_zero_turns_limiting_off(world, settings, counter_store):
    settings.APPCONTROL_RATE_LIMIT = 0
    response = world.client("member").get(api_url("api:application-list"))
    assert response.status_code == 200 and "RateLimit-Limit" not in response


def test_pages_outside_the_api_are_not_counted(world, limit_of_five, client):
    for _ in range(5):
        assert "RateLimit-Limit" not in client.get("/account/login/")


@pytest.mark.django_db
@override_settings(APPCONTROL_REDIS_URL="redis://127.0.0.1:1/0", APPCONTROL_RATE_LIMIT=5)
def test_an_unreachable_redis_does_not_take_the_api_down(world):
    response = world.client("member").get(api_url("api:application-list"))
    assert response.status_code == 200 and "RateLimit-Limit" not in response


def test_behind_a_proxy_the_forwarded_address_is_counted(world, settings, limit_of_five):
    settings.APPCONTROL_PROXY_HOPS = 1
    anonymous = client_for(None)
    for _ in range(3):
        anonymous.get("/apps/v3/", HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert anonymous.get("/apps/v3/", HTTP_X_FORWARDED_FOR="198.51.100.1").status_code == 429
    # What a client writes before the proxy's own entry is not trusted.
    assert anonymous.get("/apps/v3/", HTTP_X_FORWARDED_FOR="203.0.113.9, 198.51.100.1").status_code == 429
    assert anonymous.get("/apps/v3/", HTTP_X_FORWARDED_FOR="198.51.100.2").status_code == 200

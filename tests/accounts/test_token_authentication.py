"""Tokens: hashed at rest, checked in constant time, and every way a token can stop working."""

from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from appcontrol.accounts.models import AccessToken, Membership
from appcontrol.accounts.services import AccountError, membership_set, token_create, token_revoke
from appcontrol.accounts.tokens import token_digest
from tests.conftest import api_url, client_for

APPS = "api:application-list"


def assert_401(response, detail):
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json() == {"detail": detail}


def test_token_is_stored_only_as_prefix_and_digest(world):
    clear = world.tokens["member"]
    token = AccessToken.objects.get(user=world.users["member"])
    assert clear.startswith("apc_") and len(clear) > 40
    assert token.prefix == clear[:12]
    assert token.digest == token_digest(clear) != clear
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_accesstoken")
        rows = cursor.fetchall()
    assert clear not in repr(rows)


@pytest.mark.django_db
def test_missing_token_is_401_with_www_authenticate():
    assert_401(client_for(None).get(api_url(APPS)), "Authentication credentials were not provided.")


@pytest.mark.parametrize(
    "header",
    [
        "Token apc_doesnotexist0000000000000000000000000",
        "Token nonsense",
        "Token",
        "Token a b",
        "Bearer apc_x",
    ],
)
def test_unknown_or_malformed_tokens_are_401(world, header):
    client = client_for(None)
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get(api_url(APPS))
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_token_with_right_prefix_but_wrong_rest_is_401(world):
    clear = world.tokens["member"]
    forged = clear[:12] + ("A" if clear[12] != "A" else "B") + clear[13:]
    assert_401(client_for(forged).get(api_url(APPS)), "Invalid token.")


@pytest.mark.parametrize("keyword", ["Token", "token", "TOKEN", "Bearer"])
def test_keyword_is_case_insensitive_and_bearer_works(world, keyword):
    client = client_for(None)
    client.credentials(HTTP_AUTHORIZATION=f"{keyword} {world.tokens['member']}")
    assert client.get(api_url(APPS)).status_code == 200


def test_revoked_token_stops_working_at_once(world):
    client = world.client("member")
    assert client.get(api_url(APPS)).status_code == 200
    token_revoke(token=AccessToken.objects.get(user=world.users["member"]))
    assert_401(client.get(api_url(APPS)), "Invalid token.")


def test_a_membership_removed_stops_showing_its_organisation_at_once(world):
    """The token's lookup reads the account's organisations along: nothing about them is kept between requests."""
    client = world.client("member")
    assert client.get(api_url(APPS)).json()["count"] == 1
    Membership.objects.filter(user=world.users["member"]).delete()
    assert client.get(api_url(APPS)).json()["count"] == 0
    membership_set(user=world.users["member"], organisation=world.other, role="member")
    assert [app["slug"] for app in client.get(api_url(APPS)).json()["results"]] == ["other-application"]


def test_an_invalid_token_is_looked_up_once(world, settings):
    settings.APPCONTROL_RATE_LIMIT_ANONYMOUS = 0
    clear = world.tokens["member"]
    forged = clear[:12] + ("A" if clear[12] != "A" else "B") + clear[13:]
    with CaptureQueriesContext(connection) as queries:
        assert_401(client_for(forged).get(api_url(APPS)), "Invalid token.")
    assert sum("accesstoken" in query["sql"] for query in queries.captured_queries) == 1


def test_expired_token_is_401(world):
    client = world.client("member")
    AccessToken.objects.filter(user=world.users["member"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert_401(client.get(api_url(APPS)), "Token has expired.")


def test_token_of_a_deactivated_user_is_401(world):
    user = world.users["member"]
    user.is_active = False
    user.save()
    assert_401(world.client("member").get(api_url(APPS)), "User inactive or deleted.")


def test_last_used_at_is_recorded_but_not_rewritten_on_every_request(world):
    client = world.client("member")
    token = AccessToken.objects.get(user=world.users["member"])
    assert token.last_used_at is None
    client.get(api_url(APPS))
    token.refresh_from_db()
    first_use = token.last_used_at
    assert first_use is not None
    client.get(api_url(APPS))
    token.refresh_from_db()
    assert token.last_used_at == first_use
    later = first_use + timedelta(minutes=5)  # past the resolution (60 s), also for a caller this process remembers
    with mock.patch("appcontrol.accounts.authentication.timezone.now", return_value=later):
        client.get(api_url(APPS))
    token.refresh_from_db()
    assert token.last_used_at == later


def test_read_only_token_can_read_but_not_write(world):
    world.add_actor("reader", world.acme, read_only=True)
    client = world.client("reader")
    assert client.get(api_url(APPS)).status_code == 200
    response = client.post(
        api_url(APPS), {"slug": "new-app", "name": "New", "organisation": world.acme.pk.hex}, format="json"
    )
    assert response.status_code == 403
    assert response.json() == {"detail": "This token is read-only."}


def test_organisation_restricted_token_sees_only_that_organisation(world):
    user = world.users["member"]
    from appcontrol.accounts.models import Role
    from appcontrol.accounts.services import membership_set

    membership_set(user=user, organisation=world.other, role=Role.MEMBER)
    _, restricted = token_create(user=user, organisation=world.acme)
    unrestricted = world.client("member")
    assert unrestricted.get(api_url(APPS)).json()["count"] == 2
    client = client_for(restricted)
    body = client.get(api_url(APPS)).json()
    assert [app["slug"] for app in body["results"]] == ["example-application"]
    other_app = api_url("api:application-detail", uuid=world.apps["other"].pk)
    assert client.get(other_app).status_code == 404
    response = client.post(
        api_url(APPS), {"slug": "sneaky", "name": "Sneaky", "organisation": world.other.pk.hex}, format="json"
    )
    assert response.status_code == 400
    assert "organisation" in response.json()
    orgs = client.get(api_url("iam:organisation-list")).json()
    assert [org["slug"] for org in orgs["results"]] == ["acme"]


def test_a_token_cannot_be_restricted_to_an_organisation_its_user_is_not_in(world):
    with pytest.raises(AccountError):
        token_create(user=world.users["member"], organisation=world.other)


def test_expiry_must_lie_in_the_future(world):
    with pytest.raises(AccountError):
        token_create(user=world.users["member"], expires_at=timezone.now() - timedelta(days=1))


def test_each_user_may_hold_several_tokens(world):
    _, second = token_create(user=world.users["member"], name="ci")
    assert second != world.tokens["member"]
    assert client_for(second).get(api_url(APPS)).status_code == 200
    assert world.client("member").get(api_url(APPS)).status_code == 200

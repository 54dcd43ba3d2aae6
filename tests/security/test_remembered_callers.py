"""A caller remembered between requests (accounts/caller_cache.py) never outlives a change to its rights.

Every change below is made in SQL, behind the application's back, as another process, another host or an
operator at a database prompt would: nothing in this process hears of it. The next request must still see
it, whatever it reads: a page of a list (checked along in the page's statement), an object, an empty list,
a HEAD, a conditional GET; with its requests counted against a rate limit in the database or not counted.
"""

import logging

import psycopg
import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from appcontrol.accounts import token_lookup
from appcontrol.accounts.caller_cache import remembered, verification
from appcontrol.accounts.models import AccessToken, Membership, Role, User
from appcontrol.accounts.services import membership_set
from appcontrol.accounts.tokens import token_prefix
from appcontrol.applications.models import Application
from appcontrol.core.verification import StaleCaller
from tests.conftest import api_url

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="callers are remembered on PostgreSQL only (SQLite looks each one up)"
)

APPS = "api:application-list"
READS = {
    "a page of a list": lambda world: api_url(APPS),
    "an empty list": lambda world: api_url(APPS, query="slug=no-such-application"),
    "an object": lambda world: api_url("api:application-detail", uuid=world.apps["acme"].pk),
    "a later page": lambda world: api_url(APPS, query="page=2&page_size=1"),
}


@pytest.fixture(params=["counted", "not counted"])
def member(request, world, settings):
    """The member's client, its caller remembered by this process (proved, not assumed); its requests counted
    against a rate limit in the database (checked before the counter is written) or not counted (checked
    along in a list's page statement)."""
    if request.param == "not counted":
        settings.APPCONTROL_RATE_LIMIT = 0
    client = world.client("member")
    for _ in range(2):
        assert client.get(api_url(APPS)).status_code == 200
    assert remembered.recall(token_prefix(world.tokens["member"])) is not None
    Application.objects.create(organisation=world.acme, slug="second-application", name="Second")  # two pages
    return client


def in_sql(statement: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def revoke_in_sql(world) -> None:
    in_sql(f'UPDATE "{AccessToken._meta.db_table}" SET revoked_at = now() WHERE prefix = %s',
           [token_prefix(world.tokens["member"])])  # fmt: skip


def is_like(statement: str, template: str) -> bool:
    """Whether a captured statement (its values written in) is the template's (up to its first FROM)."""
    return statement.startswith(template.split(" FROM ")[0])


def test_a_remembered_caller_spares_the_lookup_of_a_list(world, member, settings):
    with CaptureQueriesContext(connection) as captured:
        assert member.get(api_url(APPS)).status_code == 200
    statements = [query["sql"] for query in captured]
    assert not [sql for sql in statements if is_like(sql, token_lookup._plan("postgresql").sql)]
    check = token_lookup.caller_fingerprint_sql()
    if settings.APPCONTROL_RATE_LIMIT == 0:  # the page's statement checks the caller along: nothing else runs
        assert len(statements) == 1 and check.split(" FROM ")[0] in statements[0]
    else:  # checked first, then the counter, then the page
        assert len(statements) == 3 and is_like(statements[0], check)


@pytest.mark.parametrize("read", READS.values(), ids=READS.keys())
def test_a_token_revoked_elsewhere_is_refused_by_the_next_read(world, member, read, caplog):
    revoke_in_sql(world)
    with caplog.at_level(logging.ERROR):
        response = member.get(read(world))
    assert response.status_code == 401 and response.json() == {"detail": "Invalid token."}
    assert remembered.recall(token_prefix(world.tokens["member"])) is None
    assert not [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]


def test_a_token_revoked_elsewhere_is_refused_by_the_next_head_and_conditional_get(world, member):
    etag = member.get(api_url(APPS))["ETag"]
    revoke_in_sql(world)
    assert member.head(api_url(APPS)).status_code == 401
    assert member.get(api_url(APPS), HTTP_IF_NONE_MATCH=etag).status_code == 401  # not a 304


@pytest.mark.parametrize("read", READS.values(), ids=READS.keys())
def test_a_token_deleted_elsewhere_is_refused_by_the_next_read(world, member, read):
    in_sql(f'DELETE FROM "{AccessToken._meta.db_table}" WHERE prefix = %s', [token_prefix(world.tokens["member"])])
    assert member.get(read(world)).status_code == 401


@pytest.mark.parametrize("read", READS.values(), ids=READS.keys())
def test_an_account_deactivated_elsewhere_is_refused_by_the_next_read(world, member, read):
    in_sql(f'UPDATE "{User._meta.db_table}" SET is_active = false WHERE uuid = %s', [world.users["member"].pk])
    response = member.get(read(world))
    assert response.status_code == 401 and response.json() == {"detail": "User inactive or deleted."}


def test_the_check_comes_before_anything_the_read_does(world, member):
    """An object's read runs statements of its own: the caller is checked before the first of them, which
    never reaches the database. (A statement that raised is still in Django's list of queries: only those
    that ran are recorded here.)"""
    ran = []

    def record(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        ran.append(sql)
        return result

    revoke_in_sql(world)
    with connection.execute_wrapper(record):
        assert member.get(READS["an object"](world)).status_code == 401
    assert is_like(ran[0], token_lookup.caller_fingerprint_sql())
    assert not any(Application._meta.db_table in sql for sql in ran)


def test_a_membership_removed_elsewhere_hides_the_organisation_at_once(world, settings, caplog):
    settings.APPCONTROL_RATE_LIMIT = 0  # so that the list's page statement finds the change, inside the view
    membership_set(user=world.users["member"], organisation=world.other, role=Role.MEMBER)
    client = world.client("member")
    for _ in range(2):
        slugs = {app["slug"] for app in client.get(api_url(APPS)).json()["results"]}
        assert slugs == {"example-application", "other-application"}
    in_sql(f'DELETE FROM "{Membership._meta.db_table}" WHERE organisation_id = %s AND user_id = %s',
           [world.other.pk, world.users["member"].pk])  # fmt: skip
    with caplog.at_level(logging.ERROR):
        response = client.get(api_url(APPS))
    assert response.status_code == 200  # answered anew, with the rights the account has now: not an error
    assert {app["slug"] for app in response.json()["results"]} == {"example-application"}
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]
    other = api_url("api:application-detail", uuid=world.apps["other"].pk)
    assert client.get(other).status_code == 404


def test_a_membership_added_elsewhere_shows_at_once(world, member):
    in_sql(f'INSERT INTO "{Membership._meta.db_table}" (user_id, organisation_id, role, created_at) '
           "VALUES (%s, %s, 'member', now())", [world.users["member"].pk, world.other.pk])  # fmt: skip
    slugs = {app["slug"] for app in member.get(api_url(APPS)).json()["results"]}
    assert "other-application" in slugs


@pytest.mark.django_db(transaction=True)
def test_a_revocation_committed_by_another_connection_is_refused_at_once(world, settings):
    """As another process or host would: its own connection, its own transaction, committed."""
    settings.APPCONTROL_RATE_LIMIT = 0
    client = world.client("member")
    for _ in range(2):
        assert client.get(api_url(APPS)).status_code == 200
    with psycopg.connect(**connection.get_connection_params()) as elsewhere:
        elsewhere.execute(f'UPDATE "{AccessToken._meta.db_table}" SET revoked_at = now() WHERE prefix = %s',
                          [token_prefix(world.tokens["member"])])  # fmt: skip
    assert client.get(api_url(APPS)).status_code == 401


def test_a_write_looks_its_token_up(world, member):
    """Only reads take a remembered caller: a write's token is read afresh before anything else."""
    with CaptureQueriesContext(connection) as captured:
        response = member.post(api_url(APPS), {"slug": "new-app", "name": "New", "organisation": world.acme.pk.hex})
    assert response.status_code == 201
    assert is_like(captured[0]["sql"], token_lookup._plan("postgresql").sql)


def test_a_write_never_takes_a_remembered_caller(world, member):
    revoke_in_sql(world)
    response = member.post(api_url(APPS), {"slug": "new-app", "name": "New", "organisation": world.acme.pk.hex})
    assert response.status_code == 401
    assert not Application.objects.filter(slug="new-app").exists()


def test_a_wrong_secret_with_a_remembered_prefix_is_refused(world, member):
    forged = world.tokens["member"][:-4] + ("AAAA" if not world.tokens["member"].endswith("AAAA") else "BBBB")
    assert token_prefix(forged) == token_prefix(world.tokens["member"])
    client = world.client("member")
    client.credentials(HTTP_AUTHORIZATION=f"Token {forged}")
    assert client.get(api_url(APPS)).status_code == 401


def test_no_statement_runs_for_a_stale_caller_before_it_is_checked(world, member):
    """Whatever a read would do before its page (a write, say), its caller is checked first."""
    prefix = token_prefix(world.tokens["member"])
    owed = verification(prefix, remembered.recall(prefix))
    revoke_in_sql(world)
    with pytest.raises(StaleCaller), connection.execute_wrapper(owed), transaction.atomic():
        Application.objects.filter(pk=world.apps["acme"].pk).update(name="Changed")
    assert Application.objects.get(pk=world.apps["acme"].pk).name == "Example"

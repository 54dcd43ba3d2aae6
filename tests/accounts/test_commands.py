"""The operator's command line: organisations, accounts, tokens and the demo."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from appcontrol.accounts.models import AccessToken, Membership, Organisation, User
from appcontrol.applications.models import Application
from tests.conftest import api_url, client_for

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def remove_demo_databases():
    """The demo provisions real databases (PostgreSQL when configured); they must not outlive the test."""
    yield
    from appcontrol.services.engines import engine_for
    from appcontrol.services.models import ServiceInstance

    for instance in ServiceInstance.objects.select_related("service"):
        engine_for(instance.service.engine).deprovision(instance)


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_orgs_create_and_list():
    assert "Created organisation acme (Acme Inc)" in run("orgs", "create", "acme", "--name", "Acme Inc")
    assert "acme\tAcme Inc" in run("orgs", "list")
    with pytest.raises(CommandError, match="already exists"):
        run("orgs", "create", "acme")


def test_orgs_limit_sets_and_clears_an_organisations_rate_limit():
    run("orgs", "create", "acme")
    assert "60 a minute" in run("orgs", "limit", "acme", "60")
    assert Organisation.objects.get(slug="acme").rate_limit == 60
    assert "acme\tacme\t60" in run("orgs", "list")
    assert "no limit" in run("orgs", "limit", "acme", "0")
    assert "the server's default" in run("orgs", "limit", "acme", "default")
    assert Organisation.objects.get(slug="acme").rate_limit is None
    with pytest.raises(CommandError, match="whole number"):
        run("orgs", "limit", "acme", "-5")
    with pytest.raises(CommandError, match="No organisation"):
        run("orgs", "limit", "nope", "5")


def test_accounts_create_api_only_member():
    run("orgs", "create", "acme")
    output = run("accounts", "create", "bot@example.com", "--api-only", "--org", "acme", "--role", "admin")
    assert "API-only account bot@example.com as admin of acme" in output
    user = User.objects.get(email="bot@example.com")
    assert user.is_api_only and not user.has_usable_password()
    assert Membership.objects.get(user=user).role == "admin"


def test_accounts_create_with_unknown_org_is_a_clear_error():
    with pytest.raises(CommandError, match=r"No organisation with the slug 'nope'.*orgs create nope"):
        run("accounts", "create", "x@example.com", "--org", "nope")
    assert not User.objects.exists()


def test_accounts_create_duplicate_email_is_an_error():
    run("accounts", "create", "x@example.com")
    with pytest.raises(CommandError, match="already exists"):
        run("accounts", "create", "X@example.com")


def test_tokens_create_prints_only_the_token_and_it_works():
    run("orgs", "create", "acme")
    run("accounts", "create", "bot@example.com", "--api-only", "--org", "acme")
    output = run(
        "tokens",
        "create",
        "bot@example.com",
        "--org",
        "acme",
        "--read-only",
        "--expires-in",
        "30",
        "--name",
        "ci",
    )
    token = output.strip()
    assert output == token + "\n" and token.startswith("apc_")
    stored = AccessToken.objects.get()
    assert stored.read_only and stored.organisation.slug == "acme" and stored.expires_at and stored.name == "ci"
    assert client_for(token).get(api_url("iam:me")).json()["email"] == "bot@example.com"


def test_tokens_list_shows_prefixes_only_and_revoke_by_prefix_or_whole_token():
    run("accounts", "create", "bot@example.com", "--api-only")
    first = run("tokens", "create", "bot@example.com").strip()
    second = run("tokens", "create", "bot@example.com").strip()
    listing = run("tokens", "list", "bot@example.com")
    assert first[:12] in listing and first not in listing and second not in listing
    assert "Revoked" in run("tokens", "revoke", first[:12] + "…")
    assert "Revoked" in run("tokens", "revoke", second)
    assert client_for(first).get(api_url("iam:me")).status_code == 401
    assert client_for(second).get(api_url("iam:me")).status_code == 401
    assert run("tokens", "list", "bot@example.com").count("revoked") == 2


def test_tokens_errors_are_clear():
    with pytest.raises(CommandError, match="No account"):
        run("tokens", "create", "nobody@example.com")
    run("accounts", "create", "bot@example.com")
    run("orgs", "create", "acme")
    with pytest.raises(CommandError, match="not a member"):
        run("tokens", "create", "bot@example.com", "--org", "acme")
    with pytest.raises(CommandError, match="at least one day"):
        run("tokens", "create", "bot@example.com", "--expires-in", "0")
    with pytest.raises(CommandError, match="No token with the prefix"):
        run("tokens", "revoke", "apc_nothing")


def test_demo_is_idempotent_and_prints_a_working_curl_line():
    first = run("demo", "--url", "http://127.0.0.1:9999")
    second = run("demo")
    assert Organisation.objects.filter(slug="demo").count() == 1
    assert Application.objects.filter(slug="example-application").count() == 1
    assert sorted(Application.objects.get().environments.values_list("slug", flat=True)) == ["live", "test"]
    assert "password" in first and "password" not in second  # the owner's password is shown once
    assert "curl http://127.0.0.1:9999/apps/v3/applications/" in first
    tokens = [line.split("TOKEN=")[1] for line in (first + second).splitlines() if "export TOKEN=" in line]
    assert len(tokens) == 2 and tokens[0] != tokens[1]
    body = client_for(tokens[1]).get(api_url("api:application-list", query="slug=example-application")).json()
    assert body["count"] == 1
    assert (
        client_for(tokens[1]).delete(api_url("api:application-detail", uuid=Application.objects.get().pk)).status_code
        == 403
    )  # the demo's API-only account is a plain member


def test_no_clear_token_anywhere_in_the_database_after_the_demo():
    from django.db import connection

    output = run("demo")
    token = next(line.split("TOKEN=")[1] for line in output.splitlines() if "export TOKEN=" in line)
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - table names come from introspection
            assert token not in repr(cursor.fetchall()), table


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        (["correct horse battery staple", "correct horse battery stable"], "do not match"),
        (["12345", "12345"], "too short"),
        (["password123", "password123"], "too common"),
    ],
)
def test_a_password_is_asked_twice_and_checked(db, monkeypatch, answers, message):
    replies = iter(answers)
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(replies))
    with pytest.raises(CommandError, match=message):
        call_command("accounts", "create", "alice@example.com", "--password")
    assert not User.objects.filter(email="alice@example.com").exists()


def test_a_good_password_is_accepted(db, monkeypatch):
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "correct horse battery staple")
    call_command("accounts", "create", "alice@example.com", "--password", stdout=StringIO())
    assert User.objects.get(email="alice@example.com").check_password("correct horse battery staple")

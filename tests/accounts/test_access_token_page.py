"""The control-panel page where a person manages their own tokens."""

import re

import pytest
from django.test import Client

from appcontrol.accounts.models import AccessToken, User
from tests.conftest import api_url, client_for

PAGE = "/account/access-tokens/"


@pytest.fixture
def browser(world):
    client = Client()
    assert client.login(username="member@example.com", password="correct horse battery")
    return client


def test_page_needs_a_login(db):
    response = Client().get(PAGE)
    assert response.status_code == 302
    assert response["Location"].startswith("/account/login/")


def test_login_with_email_and_password(world):
    client = Client()
    response = client.post("/account/login/", {"username": "member@example.com", "password": "correct horse battery"})
    assert response.status_code == 302 and response["Location"] == PAGE
    wrong = Client().post("/account/login/", {"username": "member@example.com", "password": "wrong"})
    assert wrong.status_code == 200 and b"The email or the password is wrong." in wrong.content


def test_api_only_accounts_cannot_log_in(world):
    User.objects.create_user("bot@example.com", is_api_only=True)
    response = Client().post("/account/login/", {"username": "bot@example.com", "password": "anything"})
    assert response.status_code == 200 and b"API-only accounts have no password" in response.content


def test_seed_path_redirects_to_the_page(browser):
    assert browser.get("/account/desktop-app/access-token/")["Location"] == PAGE


def test_create_shows_the_token_once_and_it_works(browser, world):
    response = browser.post(PAGE, {"name": "laptop", "organisation": world.acme.pk, "read_only": "on"})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    token = re.search(r'id="new-token">(apc_[^<]+)<', response.content.decode()).group(1)
    stored = AccessToken.objects.get(name="laptop")
    assert stored.read_only and stored.organisation == world.acme
    assert client_for(token).get(api_url("iam:me")).status_code == 200
    again = browser.get(PAGE).content.decode()
    assert token not in again and stored.prefix in again


def test_cannot_restrict_a_token_to_someone_elses_organisation(browser, world):
    response = browser.post(PAGE, {"name": "x", "organisation": world.other.pk})
    assert b"Select a valid choice" in response.content
    assert not AccessToken.objects.filter(name="x").exists()


def test_revoke_own_token(browser, world):
    token = AccessToken.objects.get(user=world.users["member"])
    response = browser.post(f"/account/access-tokens/{token.pk}/revoke/")
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert world.client("member").get(api_url("iam:me")).status_code == 401


def test_cannot_revoke_someone_elses_token(browser, world):
    token = AccessToken.objects.get(user=world.users["outsider"])
    assert browser.post(f"/account/access-tokens/{token.pk}/revoke/").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_revoke_needs_post(browser, world):
    token = AccessToken.objects.get(user=world.users["member"])
    assert browser.get(f"/account/access-tokens/{token.pk}/revoke/").status_code == 405

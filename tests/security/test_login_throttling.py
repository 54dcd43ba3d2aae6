"""Password guessing on the login pages slows down, then locks; a stranger cannot lock a person out of
the browser they have logged in with before."""

import pytest
from django.test import Client

from appcontrol.accounts.login_throttle import DEVICE_COOKIE
from appcontrol.accounts.models import User

EMAIL, PASSWORD = "member@example.com", "correct horse battery"


class Clock:
    def __init__(self):
        self.now = 1_900_000_000.0

    def time(self):
        return self.now


@pytest.fixture
def clock(monkeypatch, settings):
    settings.APPCONTROL_LOGIN_DELAY_AFTER = 3
    settings.APPCONTROL_LOGIN_LOCK_AFTER = 6
    settings.APPCONTROL_LOGIN_LOCK_SECONDS = 900
    settings.APPCONTROL_LOGIN_ADDRESS_LOCK_AFTER = 10
    settings.APPCONTROL_LOGIN_ACCOUNT_LOCK_AFTER = 15
    fake = Clock()
    monkeypatch.setattr("appcontrol.core.counters.time", fake)
    monkeypatch.setattr("appcontrol.accounts.login_throttle.time", fake)
    return fake


def log_in(client, password, email=EMAIL, address="192.0.2.1", path="/account/login/"):
    return client.post(path, {"username": email, "password": password}, REMOTE_ADDR=address)


def logged_in(response) -> bool:
    return response.status_code == 302


def test_failures_slow_down_then_lock(world, clock):
    client = Client()
    for _ in range(3):
        assert b"The email or the password is wrong." in log_in(client, "wrong").content
    # From the third failure on, the next attempt waits 1 s, then 2 s, 4 s …, and the password is not even
    # checked while it waits: the right one is refused too.
    refused = log_in(client, PASSWORD)
    assert b"Too many failed logins. Try again in 1 second." in refused.content
    clock.now += 1
    assert b"The email or the password is wrong." in log_in(client, "wrong").content
    assert b"Try again in 2 seconds." in log_in(client, "wrong").content
    clock.now += 2
    log_in(client, "wrong")
    clock.now += 4
    log_in(client, "wrong")  # the sixth failure locks for the rest of the window
    clock.now += 60
    locked = log_in(client, PASSWORD)
    assert not logged_in(locked) and b"Try again in 14 minutes." in locked.content
    clock.now += 900
    assert logged_in(log_in(client, PASSWORD))


def test_a_success_forgets_the_clients_own_failures(world, clock):
    client = Client()
    log_in(client, "wrong")
    log_in(client, "wrong")
    assert logged_in(log_in(client, PASSWORD))
    for _ in range(2):
        assert b"The email or the password is wrong." in log_in(Client(), "wrong").content


def test_a_lock_at_one_address_does_not_lock_the_account_elsewhere(world, clock):
    for _ in range(6):
        log_in(Client(), "wrong", address="203.0.113.66")
    assert b"Try again" in log_in(Client(), PASSWORD, address="203.0.113.66").content
    assert logged_in(log_in(Client(), PASSWORD, address="192.0.2.1"))


def test_one_address_guessing_many_accounts_is_locked(world, clock):
    for number in range(10):
        log_in(Client(), "wrong", email=f"someone{number}@example.com", address="203.0.113.66")
    refused = log_in(Client(), PASSWORD, address="203.0.113.66")
    assert not logged_in(refused) and b"Try again in 15 minutes." in refused.content


def test_many_addresses_against_one_account_cannot_lock_out_its_known_browser(world, clock):
    browser = Client()
    assert logged_in(log_in(browser, PASSWORD))
    assert DEVICE_COOKIE in browser.cookies
    browser.post("/account/logout/")
    for number in range(15):
        log_in(Client(), "wrong", address=f"198.51.100.{number}")
    # A new browser is locked out of the account while the guessing lasts …
    assert b"Try again" in log_in(Client(), PASSWORD, address="192.0.2.200").content
    # … the person's own browser is not, from any address.
    assert logged_in(log_in(browser, PASSWORD, address="192.0.2.200"))


def test_a_device_cookie_of_another_account_or_forged_gives_no_pass(world, clock):
    other = Client()
    User.objects.create_user("other@example.com", password=PASSWORD)
    assert logged_in(log_in(other, PASSWORD, email="other@example.com"))
    other.post("/account/logout/")
    forged = Client()
    forged.cookies[DEVICE_COOKIE] = "eyJhY2NvdW50IjoieCIsImRldmljZSI6InkifQ:forged:signature"
    for number in range(15):
        log_in(Client(), "wrong", address=f"198.51.100.{number}")
    assert b"Try again" in log_in(other, PASSWORD, address="192.0.2.200").content
    assert b"Try again" in log_in(forged, PASSWORD, address="192.0.2.200").content


def test_the_admin_login_is_throttled_alike(world, clock):
    User.objects.filter(email=EMAIL).update(is_staff=True, is_superuser=True)
    client = Client()
    for _ in range(6):
        log_in(client, "wrong", path="/admin/login/")
    locked = log_in(client, PASSWORD, path="/admin/login/")
    assert locked.status_code == 200 and b"Too many failed logins." in locked.content


def test_api_only_accounts_still_cannot_log_in(world, clock):
    User.objects.create_user("bot@example.com", is_api_only=True)
    response = log_in(Client(), "", email="bot@example.com")
    assert not logged_in(response)


def test_parallel_guesses_are_refused_not_checked(world, clock):
    """While one attempt of a client runs, another for the same account is refused without a password check:
    a burst of guesses cannot all be checked before any of them is counted."""
    from django.test import RequestFactory

    from appcontrol.accounts.login_throttle import LoginAttempt

    running = LoginAttempt.of(RequestFactory().post("/account/login/", REMOTE_ADDR="192.0.2.1"), EMAIL)
    assert running.begin()
    refused = log_in(Client(), PASSWORD)
    assert not logged_in(refused) and b"Try again in 1 second." in refused.content
    running.end()
    assert logged_in(log_in(Client(), PASSWORD))

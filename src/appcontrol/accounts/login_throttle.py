"""Failed logins slow down, then lock, without handing a stranger a way to lock a person out.

Failures are counted in shared counters (core.counters), each over a window of LOCK_SECONDS that starts at
its first failure:

- per account and client (its address, or its device cookie, below): from DELAY_AFTER failures on, the next
  attempt must wait 1 s, then 2 s, 4 s, … after the latest failure; from LOCK_AFTER on, that client is
  locked out of that account until the window ends. A person's own typos cost seconds, not the account.
- per address, over all accounts: locked from ADDRESS_LOCK_AFTER failures (one address trying many accounts);
- per account, over all addresses: locked from ACCOUNT_LOCK_AFTER failures (many addresses against one).

The last two are what a stranger could use to keep a person out, for as long as they keep failing. So
they do not apply to a browser that has logged into the account before: a successful login on the login
page leaves a signed device cookie naming the account, and a client presenting one is counted on its own,
by the first rule only. A guesser can thus lock out only browsers that never logged into the account, and
only while the guessing lasts; the person's own browser keeps working. A locked attempt checks no password
and counts nothing more. Operators log in from the command line (`appcontrol accounts`), which is never
throttled.
"""

import logging
import math
import secrets
import time
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.utils.crypto import salted_hmac

from appcontrol.core.client_address import client_key
from appcontrol.core.counters import Window, counters

logger = logging.getLogger(__name__)

DEVICE_COOKIE = "appcontrol_device"
DEVICE_COOKIE_MAX_AGE = 365 * 24 * 3600
_DEVICE_SALT = "appcontrol.accounts.login-device"


def _delay(window: Window | None, delay_after: int, lock_after: int, now: float) -> int:
    """Seconds the next attempt must wait given the failures counted in `window`."""
    if window is None or window.count < delay_after:
        return 0
    if window.count >= lock_after:
        return window.resets_in(now)
    return max(0, math.ceil(window.last_at + 2 ** (window.count - delay_after) - now))


@dataclass
class LoginAttempt:
    account: str  # a digest of the email as typed: counter keys name no address in clear
    address: str
    device: str | None  # the id in a valid device cookie of this account

    @classmethod
    def of(cls, request, email: str) -> "LoginAttempt":
        account = salted_hmac(
            "appcontrol.login-account", (email or "").strip().lower(), algorithm="sha256"
        ).hexdigest()[:32]
        return cls(account, client_key(request), _device_of(request, account))

    def _own_key(self) -> str:
        if self.device:
            return f"login:device:{self.device}"
        return f"login:account-address:{self.account}:{self.address}"

    def _shared_keys(self) -> list[tuple[str, int]]:
        if self.device:
            return []
        return [
            (f"login:address:{self.address}", settings.APPCONTROL_LOGIN_ADDRESS_LOCK_AFTER),
            (f"login:account:{self.account}", settings.APPCONTROL_LOGIN_ACCOUNT_LOCK_AFTER),
        ]

    def begin(self) -> bool:
        """Claim this client's turn: one attempt at a time, or a burst of parallel guesses would all be checked
        before any of them is counted. False while another attempt of this client runs."""
        return counters().hit(self._in_flight_key(), 30).count == 1

    def end(self) -> None:
        counters().clear(self._in_flight_key())

    def _in_flight_key(self) -> str:
        return f"login:in-flight:{self._own_key()}"

    def wait_seconds(self) -> int:
        """0 when this attempt may check its password, else how long until it may."""
        now = time.time()
        store = counters()
        waits = [
            _delay(
                store.peek(self._own_key(), now),
                settings.APPCONTROL_LOGIN_DELAY_AFTER,
                settings.APPCONTROL_LOGIN_LOCK_AFTER,
                now,
            )
        ]
        waits += [_delay(store.peek(key, now), limit, limit, now) for key, limit in self._shared_keys()]
        return max(waits)

    def failed(self) -> None:
        store = counters()
        for key in [self._own_key(), *(key for key, _ in self._shared_keys())]:
            store.hit(key, settings.APPCONTROL_LOGIN_LOCK_SECONDS)

    def succeeded(self) -> str:
        """Forget this client's failures (not the shared counts: a guesser's own account must not reset
        them); return the device cookie to leave."""
        counters().clear(self._own_key())
        device = self.device or secrets.token_hex(16)
        return signing.dumps({"account": self.account, "device": device}, salt=_DEVICE_SALT)


def _device_of(request, account: str) -> str | None:
    cookie = request.COOKIES.get(DEVICE_COOKIE)
    if not cookie:
        return None
    try:
        value = signing.loads(cookie, salt=_DEVICE_SALT, max_age=DEVICE_COOKIE_MAX_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(value, dict) or value.get("account") != account:
        return None
    device = value.get("device")
    return device if isinstance(device, str) else None


def wait_message(seconds: int) -> str:
    if seconds >= 120:
        span = f"{math.ceil(seconds / 60)} minutes"
    else:
        span = f"{seconds} second{'s' if seconds != 1 else ''}"
    return f"Too many failed logins. Try again in {span}."

"""A real headless Chromium (Debian's `chromium` and `chromium-driver`) against a real server process.

Screenshots of every page the tests visit are written to `artifacts/screenshots/` (or
`$APPCONTROL_SCREENSHOTS_DIR`), so anyone can look at what a user sees.
"""

import json
import os
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import running_server, server_shell

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
REPOSITORY = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(os.environ.get("APPCONTROL_SCREENSHOTS_DIR") or REPOSITORY / "artifacts" / "screenshots")
PASSWORD = "a long and correct horse battery"
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
LOCAL_SCHEMES = {"data", "blob", "about", "chrome", "chrome-error", "devtools"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("appcontrol-browser")) as running:
        server_shell(
            running,
            "from appcontrol.accounts.models import Organisation, Role\n"
            "from appcontrol.accounts.services import account_create\n"
            f"user = account_create(email='alice@demo.example', password={PASSWORD!r},\n"
            "    organisation=Organisation.objects.get(slug='demo'), role=Role.OWNER)\n"
            "user.is_staff = user.is_superuser = True\n"
            "user.save()\n",
        )
        yield running


@pytest.fixture(scope="module")
def chromium(tmp_path_factory):
    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        if os.environ.get("CI"):
            pytest.fail("chromium and chromium-driver are not installed, but CI must run the browser tests")
        pytest.skip("the browser tests need Debian's chromium and chromium-driver")
    os.environ.setdefault("SE_OFFLINE", "true")  # never let Selenium look for a driver on the internet
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-quic",
        "--disable-default-apps", "--disable-extensions", "--window-size=1280,900",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):  # fmt: skip
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(30)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()


def requests(driver) -> tuple[dict[str, str], set[str]]:
    """The requests the page started since the last call (the performance log drains as it is read), by id,
    and the ids the browser blocked before they reached the network (a Content-Security-Policy)."""
    started, blocked = {}, set()
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            started[message["params"]["requestId"]] = message["params"]["request"]["url"]
        elif message["method"] == "Network.loadingFailed" and message["params"].get("blockedReason"):
            blocked.add(message["params"]["requestId"])
    return started, blocked


def assert_nothing_left_the_machine(driver) -> list[str]:
    started, blocked = requests(driver)
    outside = [
        url for request_id, url in started.items()
        if request_id not in blocked
        and urlsplit(url).scheme not in LOCAL_SCHEMES and urlsplit(url).hostname not in LOCAL_HOSTS
    ]  # fmt: skip
    assert not outside, f"requests left the machine: {outside}"
    return list(started.values())


def screenshot(driver, name: str) -> None:
    driver.save_screenshot(str(SCREENSHOTS / f"{name}.png"))

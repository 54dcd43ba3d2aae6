"""What a person sees, in a real browser: logging in, a token's life on its page, the API docs offline."""

import urllib.error
import urllib.request

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from .conftest import PASSWORD, assert_nothing_left_the_machine, screenshot


def wait_for(driver, locator, timeout=30):
    return WebDriverWait(driver, timeout).until(expected_conditions.presence_of_element_located(locator))


def log_in(driver, server, email: str, password: str) -> None:
    driver.delete_all_cookies()
    driver.get(f"{server['url']}/account/login/")
    driver.find_element(By.ID, "id_username").send_keys(email)
    driver.find_element(By.ID, "id_password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()


def api_status(server, token: str) -> int:
    request = urllib.request.Request(
        f"{server['url']}/apps/v3/applications/", headers={"authorization": f"Token {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback only
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.fixture
def browser(chromium):
    chromium.set_window_size(1280, 900)
    chromium.get_log("performance")  # start each test with an empty request log
    return chromium


def test_a_wrong_password_gets_a_clear_message(browser, server):
    log_in(browser, server, "alice@demo.example", "not the password")
    error = wait_for(browser, (By.CSS_SELECTOR, ".errorlist"))
    assert "The email or the password is wrong." in error.text
    screenshot(browser, "login-wrong-password")
    assert_nothing_left_the_machine(browser)


def test_an_api_only_account_is_told_it_cannot_log_in(browser, server):
    log_in(browser, server, "api@demo.example", "any password at all")
    error = wait_for(browser, (By.CSS_SELECTOR, ".errorlist"))
    assert "API-only accounts have no password" in error.text and "appcontrol tokens create" in error.text


def test_a_token_is_shown_once_listed_without_its_secret_and_refused_once_revoked(browser, server):
    log_in(browser, server, "alice@demo.example", PASSWORD)
    wait_for(browser, (By.ID, "id_name")).send_keys("browser test")
    browser.find_element(By.XPATH, "//button[text()='Create token']").click()
    token = wait_for(browser, (By.ID, "new-token")).text
    assert token.startswith("apc_")
    curl = browser.find_elements(By.CSS_SELECTOR, "code.token")[1].text
    assert curl.startswith(f"curl {server['url']}/apps/v3/applications/") and f"Token {token}" in curl
    screenshot(browser, "access-token-created")
    assert api_status(server, token) == 200

    browser.get(f"{server['url']}/account/access-tokens/")  # a fresh GET, as a reload after the redirect would
    row = wait_for(browser, (By.XPATH, "//tr[td[text()='browser test']]"))
    assert token[:12] in row.text and token not in browser.page_source
    screenshot(browser, "access-tokens")

    row.find_element(By.XPATH, ".//button[text()='Revoke']").click()
    notice = wait_for(browser, (By.CSS_SELECTOR, ".notice"))
    assert "revoked" in notice.text and not browser.find_elements(By.XPATH, "//td[text()='browser test']")
    assert api_status(server, token) == 401
    assert_nothing_left_the_machine(browser)


@pytest.mark.parametrize(
    ("path", "rendered", "name"),
    [
        ("/apps/v3/docs/", (By.CSS_SELECTOR, "h1"), "docs-redoc"),
        ("/apps/v3/docs/swagger/", (By.CSS_SELECTOR, ".swagger-ui .info .title"), "docs-swagger"),
    ],
)
def test_the_api_docs_render_with_nothing_from_outside(browser, server, path, rendered, name):
    browser.get(f"{server['url']}{path}")
    title = wait_for(browser, rendered)
    WebDriverWait(browser, 30).until(lambda driver: "appcontrol API" in title.text)
    WebDriverWait(browser, 30).until(lambda driver: "backups" in driver.find_element(By.TAG_NAME, "body").text.lower())
    screenshot(browser, name)
    urls = assert_nothing_left_the_machine(browser)
    assert any("/apps/v3/schema" in url for url in urls), urls


def test_the_admin_shares_the_look(browser, server):
    log_in(browser, server, "alice@demo.example", PASSWORD)
    wait_for(browser, (By.ID, "id_name"))
    browser.get(f"{server['url']}/admin/")
    branding = wait_for(browser, (By.ID, "site-name"))
    assert branding.text == "appcontrol admin"
    assert browser.find_elements(By.CSS_SELECTOR, "link[href$='appcontrol/site.css']")
    screenshot(browser, "admin")
    assert_nothing_left_the_machine(browser)


@pytest.mark.parametrize("path", ["/account/login/", "/account/access-tokens/"])
def test_pages_fit_a_phone(browser, server, path):
    if path == "/account/login/":
        browser.delete_all_cookies()
    else:  # with a token listed: the widest thing on the page
        log_in(browser, server, "alice@demo.example", PASSWORD)
        wait_for(browser, (By.ID, "id_name")).send_keys("a token with a rather long name for a phone")
        browser.find_element(By.XPATH, "//button[text()='Create token']").click()
        wait_for(browser, (By.ID, "new-token"))
    browser.set_window_size(375, 800)
    browser.get(f"{server['url']}{path}")
    wait_for(browser, (By.TAG_NAME, "h2"))
    width, viewport = browser.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= viewport, f"{path} is {width} px wide in a {viewport} px window"
    screenshot(browser, "phone" + path.rstrip("/").replace("/", "-"))


def test_the_api_root_is_readable_in_a_browser(browser, server):
    browser.get(f"{server['url']}/apps/v3/")
    text = wait_for(browser, (By.TAG_NAME, "pre")).text
    assert text.startswith("{\n") and '\n  "applications": ' in text

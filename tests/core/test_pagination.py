import base64
import json
from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
from django.core import signing
from django.utils import timezone

from appcontrol.applications.models import Application
from appcontrol.applications.services import application_create
from appcontrol.core.ids import decode_id, encode_id
from appcontrol.core.pagination import _SALT, Pagination, _ordering_of
from tests.conftest import api_url


@pytest.fixture
def many_apps(world):
    for number in range(25):
        application_create(organisation=world.acme, slug=f"app-{number:02d}", name=f"App {number}")
    return world


def collect(client, url):
    seen, pages = [], 0
    while url:
        body = client.get(url).json()
        seen.extend(item["slug"] for item in body["results"])
        url = body["next"]
        pages += 1
    return seen, pages


def test_walking_next_links_visits_every_item_once_in_a_stable_order(many_apps):
    client = many_apps.client("member")
    first, pages = collect(client, api_url("api:application-list", query="page_size=4"))
    assert pages == 7
    assert len(first) == len(set(first)) == 26
    again, _ = collect(client, api_url("api:application-list", query="page_size=4"))
    assert again == first


def test_next_and_previous_are_absolute_and_keep_filters_and_page_size(many_apps):
    client = many_apps.client("member")
    url = api_url("api:environment-list", query="slug=test&page_size=5")
    body = client.get(url).json()
    assert body["count"] == 26
    assert body["previous"] is None
    next_url = urlparse(body["next"])
    assert next_url.scheme == "http" and next_url.netloc == "testserver"
    query = parse_qs(next_url.query)
    assert query.keys() == {"slug", "page_size", "cursor"}
    assert (query["slug"], query["page_size"]) == (["test"], ["5"])
    second = client.get(body["next"]).json()
    assert second["previous"].startswith("http://testserver/")
    assert all(item["slug"] == "test" for item in second["results"])


def test_page_size_is_capped_at_the_hard_maximum(many_apps, monkeypatch):
    monkeypatch.setattr(Pagination, "max_page_size", 10)
    body = many_apps.client("member").get(api_url("api:application-list", query="page_size=100000")).json()
    assert len(body["results"]) == 10
    assert body["count"] == 26


def test_default_maximum_is_enforced_without_override(many_apps, settings):
    """Whatever a client asks for, a page holds at most APPCONTROL_MAX_PAGE_SIZE (500) objects."""
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    request = Request(APIRequestFactory().get("/apps/v3/applications/", {"page_size": "999999"}))
    assert Pagination().get_page_size(request) == settings.APPCONTROL_MAX_PAGE_SIZE == 500
    body = many_apps.client("member").get(api_url("api:application-list", query="page_size=999999")).json()
    assert len(body["results"]) == 26  # all there are, under the maximum


@pytest.mark.parametrize("page", ["0", "99", "abc"])
def test_a_page_out_of_range_is_a_json_404(many_apps, page):
    response = many_apps.client("member").get(api_url("api:application-list", query=f"page={page}"))
    assert response.status_code == 404
    assert "detail" in response.json()


def slugs(body):
    return [item["slug"] for item in body["results"]]


def test_cursor_pages_count_what_the_first_page_counted_and_walk_back_with_previous(many_apps):
    client = many_apps.client("member")
    first = client.get(api_url("api:application-list", query="page_size=10")).json()
    second = client.get(first["next"]).json()
    third = client.get(second["next"]).json()
    assert first["count"] == second["count"] == third["count"] == 26
    assert len(slugs(third)) == 6 and third["next"] is None
    assert slugs(client.get(third["previous"]).json()) == slugs(second)
    back_to_first = client.get(second["previous"]).json()
    assert slugs(back_to_first) == slugs(first) and back_to_first["previous"] is None


def test_numbered_pages_still_work_and_lead_on_with_cursors(many_apps):
    client = many_apps.client("member")
    everything = collect(client, api_url("api:application-list", query="page_size=4"))[0]
    third = client.get(api_url("api:application-list", query="page_size=4&page=3")).json()
    assert slugs(third) == everything[8:12] and third["count"] == 26
    assert slugs(client.get(third["next"]).json()) == everything[12:16]
    assert slugs(client.get(third["previous"]).json()) == everything[4:8]
    assert "page=" not in third["next"]


def test_rows_sharing_a_sort_value_are_neither_repeated_nor_skipped(many_apps):
    """Applications sort by name, then id: give many the same name."""
    Application.objects.filter(organisation=many_apps.acme).update(name="Same")
    client = many_apps.client("member")
    seen, _ = collect(client, api_url("api:application-list", query="page_size=3"))
    assert len(seen) == len(set(seen)) == 26


def test_rows_inserted_while_paging_never_repeat_or_hide_the_ones_that_were_there(many_apps, world):
    """Backups are newest first: new ones land before the cursor, older ones after it."""
    from appcontrol.backups.models import Backup

    env = world.apps["acme"].environments.get(slug="test")
    now = timezone.now()
    existing = [
        Backup.objects.create(environment=env, state="COMPLETED", created_at=now - timedelta(minutes=n))
        for n in range(12)
    ]
    client = world.client("member")
    seen = []
    body = client.get(api_url("api:backup-list", query="page_size=5")).json()
    while True:
        seen.extend(item["uuid"] for item in body["results"])
        # Between pages: a newer backup, one at exactly the time of the last row seen, and an older one.
        last_seen = Backup.objects.get(pk=decode_id(seen[-1]))
        Backup.objects.create(environment=env, state="COMPLETED", created_at=timezone.now())
        Backup.objects.create(environment=env, state="COMPLETED", created_at=last_seen.created_at)
        Backup.objects.create(environment=env, state="COMPLETED", created_at=now - timedelta(days=1))
        if not body["next"]:
            break
        body = client.get(body["next"]).json()
    expected = [encode_id(row.pk) for row in existing]
    assert len(seen) == len(set(seen))
    assert [uuid for uuid in seen if uuid in expected] == expected


@pytest.mark.parametrize("cursor", ["nonsense", "", "x" * 2000])
def test_a_malformed_cursor_is_a_json_400(many_apps, cursor):
    response = many_apps.client("member").get(api_url("api:application-list", query=urlencode({"cursor": cursor})))
    assert response.status_code == 400
    assert "cursor" in response.json()


def test_a_tampered_cursor_or_one_from_another_list_is_a_json_400(many_apps):
    client = many_apps.client("member")
    cursor = parse_qs(urlparse(client.get(api_url("api:application-list", query="page_size=2")).json()["next"]).query)[
        "cursor"
    ][0]
    tampered = cursor[:-3] + ("AAA" if not cursor.endswith("AAA") else "BBB")
    assert client.get(api_url("api:application-list", query=urlencode({"cursor": tampered}))).status_code == 400
    elsewhere = client.get(api_url("api:environment-list", query=urlencode({"cursor": cursor})))
    assert elsewhere.status_code == 400


def _cursor_of(link):
    return parse_qs(urlparse(link).query)["cursor"][0]


def _payload(cursor):
    body = cursor.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def test_a_cursor_whose_payload_was_edited_is_a_json_400(many_apps):
    client = many_apps.client("member")
    cursor = _cursor_of(client.get(api_url("api:application-list", query="page_size=2")).json()["next"])
    payload = _payload(cursor)
    assert payload["d"] == "after" and payload["c"] == 26
    payload["c"] = 1
    body = base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).rstrip(b"=").decode()
    edited = f"{body}.{cursor.split('.')[1]}"
    response = client.get(api_url("api:application-list", query=urlencode({"cursor": edited})))
    assert response.status_code == 400 and "cursor" in response.json()


def test_a_cursor_of_the_earlier_format_still_leads_on(many_apps):
    """Cursors given before an upgrade (Django's signing, the list as its salt) keep working."""
    client = many_apps.client("member")
    first = client.get(api_url("api:application-list", query="page_size=2")).json()
    new_format = _cursor_of(first["next"])
    ordering = ",".join(
        ("-" if descending else "") + name for name, descending in _ordering_of(Application.objects.all())
    )
    earlier = signing.dumps(_payload(new_format), salt=f"{_SALT}:/apps/v3/applications:{ordering}", compress=True)
    by_new, by_earlier = (
        client.get(api_url("api:application-list", query=urlencode({"cursor": cursor, "page_size": 2}))).json()
        for cursor in (new_format, earlier)
    )
    assert by_earlier["results"] == by_new["results"] and by_new["results"][0] != first["results"][0]
    elsewhere = signing.dumps(_payload(new_format), salt=f"{_SALT}:/apps/v3/environments:{ordering}", compress=True)
    assert client.get(api_url("api:application-list", query=urlencode({"cursor": elsewhere}))).status_code == 400


def test_a_cursor_signed_before_the_secret_key_was_rotated_still_leads_on(many_apps, settings):
    client = many_apps.client("member")
    cursor = _cursor_of(client.get(api_url("api:application-list", query="page_size=2")).json()["next"])
    settings.SECRET_KEY_FALLBACKS, settings.SECRET_KEY = [settings.SECRET_KEY], "a-new-key-" + "x" * 50
    assert client.get(api_url("api:application-list", query=urlencode({"cursor": cursor}))).status_code == 200
    settings.SECRET_KEY_FALLBACKS = []
    assert client.get(api_url("api:application-list", query=urlencode({"cursor": cursor}))).status_code == 400


@pytest.mark.parametrize("size, expected", [("0", 100), ("-3", 100), ("abc", 100), ("1", 1)])
def test_page_size_bounds(many_apps, size, expected):
    body = many_apps.client("member").get(api_url("api:application-list", query=f"page_size={size}")).json()
    assert len(body["results"]) == min(expected, 26)


def test_no_list_is_ordered_by_a_field_that_can_be_null():
    """A cursor holds the last row's sort values; a null has no place in a range, so a list ordered by a
    nullable field would have to stop offering `next` early. None is: keep it so."""
    from django.apps import apps

    from appcontrol.core.pagination import _ordering_of

    offenders = []
    for model in apps.get_models():
        if not model.__module__.startswith("appcontrol."):
            continue
        for path, _ in _ordering_of(model.objects.all()):
            field, current = None, model
            for part in path.split("__"):
                field = current._meta.pk if part == "pk" else current._meta.get_field(part)
                current = field.related_model or current
            if field.null:
                offenders.append(f"{model.__name__}: {path}")
    assert not offenders, offenders

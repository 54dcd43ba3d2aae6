"""GET /apps/v3/environments/{uuid}/logs/: the cursor contract divio-cli's `app logs --tail` and Divio's
export script rely on. Results oldest first; without a cursor the newest page; `next` never null (after
the newest line, unchanged while nothing new arrives); `previous` the request's own URL when nothing is older."""

from datetime import timedelta

import pytest
from django.utils import timezone

from appcontrol.deployments.logs import engine_timestamp, logs_expire
from appcontrol.deployments.models import LogEntry
from tests.conftest import api_url


@pytest.fixture
def test_env(world):
    return world.apps["acme"].environments.get(slug="test")


def add_lines(environment, count, start=0, at=None):
    at = at or timezone.now()
    return LogEntry.objects.bulk_create(
        LogEntry(environment=environment, timestamp=at + timedelta(seconds=n), service="web", message=f"line {n}")
        for n in range(start, start + count)
    )


def get(world, url):
    response = world.client("member").get(url)
    assert response.status_code == 200, response.json()
    return response.json()


def messages(body):
    return [entry["message"] for entry in body["results"]]


def test_an_empty_log_has_a_next_cursor_and_previous_is_the_request(world, test_env):
    url = api_url("api:environment-log-logs", uuid=test_env.pk)
    body = get(world, url)
    assert body["results"] == []
    assert body["previous"] == f"http://testserver{url}"
    assert body["next"] is not None
    assert get(world, body["next"])["next"] == body["next"]  # unchanged while nothing arrives
    add_lines(test_env, 2)
    assert messages(get(world, body["next"])) == ["line 0", "line 1"]  # nothing written after it is lost


def test_one_page_is_oldest_first_and_has_nothing_older(world, test_env):
    add_lines(test_env, 3)
    url = api_url("api:environment-log-logs", uuid=test_env.pk)
    body = get(world, url)
    assert messages(body) == ["line 0", "line 1", "line 2"]
    assert set(body["results"][0]) == {"timestamp", "service", "message"}
    assert body["previous"] == f"http://testserver{url}"
    tail = get(world, body["next"])
    assert tail["results"] == [] and tail["next"] == body["next"]
    add_lines(test_env, 1, start=3)
    assert messages(get(world, body["next"])) == ["line 3"]


def test_many_pages_go_back_by_previous_and_forward_by_next(world, test_env):
    add_lines(test_env, 25)
    body = get(world, api_url("api:environment-log-logs", uuid=test_env.pk, query="page_size=10"))
    assert messages(body) == [f"line {n}" for n in range(15, 25)]  # the newest page
    older = get(world, body["previous"])
    assert messages(older) == [f"line {n}" for n in range(5, 15)]
    oldest = get(world, older["previous"])
    assert messages(oldest) == [f"line {n}" for n in range(0, 5)]
    assert oldest["previous"].endswith(older["previous"].split("testserver")[1])  # nothing older: itself
    forward = get(world, oldest["next"])
    assert messages(forward) == [f"line {n}" for n in range(5, 15)]
    assert "page_size=10" in forward["next"]


def test_a_time_range_narrows_the_lines(world, test_env):
    start = timezone.now().replace(microsecond=0)
    add_lines(test_env, 10, at=start)
    since = (start + timedelta(seconds=3)).strftime("%Y-%m-%dT%H:%M:%S")
    until = (start + timedelta(seconds=6)).strftime("%Y-%m-%dT%H:%M:%S")
    body = get(world, api_url("api:environment-log-logs", uuid=test_env.pk, query=f"from_ts={since}&to_ts={until}"))
    assert messages(body) == ["line 3", "line 4", "line 5"]


@pytest.mark.parametrize("query", ["from_ts=yesterday", "after=-1", "after=1&before=5", "page_size=0"])
def test_bad_parameters_are_400(world, test_env, query):
    response = world.client("member").get(api_url("api:environment-log-logs", uuid=test_env.pk, query=query))
    assert response.status_code == 400


def test_other_organisations_logs_are_404(world):
    other = world.apps["other"].environments.get(slug="test")
    add_lines(other, 1)
    assert world.client("member").get(api_url("api:environment-log-logs", uuid=other.pk)).status_code == 404


def test_old_lines_and_lines_over_the_cap_expire(world, test_env, settings):
    settings.APPCONTROL_LOG_MAX_LINES = 5
    add_lines(test_env, 3, at=timezone.now() - timedelta(days=settings.APPCONTROL_LOG_RETENTION_DAYS + 1))
    add_lines(test_env, 8, start=3)
    other = world.apps["other"].environments.get(slug="test")
    add_lines(other, 4)
    assert logs_expire() == 6
    assert list(LogEntry.objects.filter(environment=test_env).values_list("message", flat=True)) == [
        f"line {n}" for n in range(6, 11)
    ]
    assert LogEntry.objects.filter(environment=other).count() == 4


def test_engine_timestamps_keep_their_nanoseconds():
    moment, nanoseconds = engine_timestamp("2026-11-28T07:00:00.5Z")
    assert nanoseconds % 1_000_000_000 == 500_000_000 and moment.microsecond == 500_000
    assert engine_timestamp("2026-11-28T07:00:00.51Z")[1] > nanoseconds
    assert engine_timestamp("garbage") is None

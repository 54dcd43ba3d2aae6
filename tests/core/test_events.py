"""Domain events reach their subscribers after the commit, and only then."""

import pytest
from django.db import transaction

from appcontrol.core import events


@pytest.fixture
def heard(monkeypatch):
    monkeypatch.setattr(events, "_subscribers", events.defaultdict(list))
    calls = []
    events.subscribe("backup.completed", lambda **payload: calls.append(payload))
    return calls


def test_subscribers_run_after_the_commit(db, heard, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        events.publish("backup.completed", backup_id=1, success="SUCCESS")
        assert heard == []  # not before the commit
    assert heard == [{"backup_id": 1, "success": "SUCCESS"}]


def test_nothing_is_heard_of_a_rolled_back_transaction(db, heard, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            events.publish("backup.completed", backup_id=1, success="SUCCESS")
            raise RuntimeError("rolled back")
    assert heard == []


def test_a_failing_subscriber_does_not_silence_the_others(db, heard, django_capture_on_commit_callbacks):
    def broken(**payload):
        raise ValueError("broken subscriber")

    events._subscribers["backup.completed"].insert(0, broken)
    with django_capture_on_commit_callbacks(execute=True):
        events.publish("backup.completed", backup_id=2, success="FAILURE")
    assert heard == [{"backup_id": 2, "success": "FAILURE"}]


def test_unknown_events_are_refused():
    with pytest.raises(ValueError, match="Unknown event"):
        events.publish("backup.finished", backup_id=1)
    with pytest.raises(ValueError, match="Unknown event"):
        events.subscribe("backups.completed", print)

"""The scheduler's duties: registered by each part, run each round (or less often), failures contained."""

import pytest

from appcontrol.core import periodic


@pytest.fixture
def duties(monkeypatch):
    monkeypatch.setattr(periodic, "DUTIES", {})
    return periodic


def test_each_part_registers_its_duties():
    assert {"reaped", "expired", "scheduled", "planner statistics"} <= set(periodic.DUTIES)


def test_a_failing_duty_does_not_stop_the_others(duties):
    def broken():
        raise RuntimeError("broken duty")

    duties.register("broken", broken)
    duties.register("fine", lambda: 3)
    assert duties.round_run() == {"fine": 3}


def test_a_slow_duty_runs_only_when_due(duties, monkeypatch):
    runs = []
    duties.register("hourly", lambda: runs.append(1) or True, every_seconds=3600)
    clock = iter([1000.0, 1001.0, 4601.0])
    monkeypatch.setattr(periodic.time, "monotonic", lambda: next(clock))
    for _ in range(3):
        duties.round_run()
    assert len(runs) == 2

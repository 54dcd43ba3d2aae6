"""Periodic duties, run by `appcontrol scheduler`: each app registers its own in its `ready()`.

A duty is a function returning how many things it did (jobs reaped, backups expired, …), and how often
it runs; the scheduler's round runs every duty that is due. A duty that fails is logged and does not stop
the others, nor the next round.
"""

import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import close_old_connections

logger = logging.getLogger(__name__)


@dataclass
class Duty:
    name: str
    run: Callable[[], int | bool]
    every_seconds: float = 0.0  # 0: every round
    due_at: float = field(default=0.0, compare=False)


DUTIES: dict[str, Duty] = {}


def register(name: str, run: Callable[[], int | bool], every_seconds: float = 0.0) -> None:
    DUTIES[name] = Duty(name, run, every_seconds)


def round_run() -> dict[str, int]:
    """Run every due duty once; return what each did (the ones that ran)."""
    done = {}
    now = time.monotonic()
    for duty in DUTIES.values():
        if now < duty.due_at:
            continue
        duty.due_at = now + duty.every_seconds
        try:
            done[duty.name] = int(duty.run())
        except Exception:  # noqa: BLE001 - a failing duty must not stop the others
            logger.exception("Periodic duty %s failed", duty.name)
    return done


def run_rounds(round_once: Callable[[], None], *, interval: float, once: bool) -> None:
    """Call `round_once` every `interval` seconds until SIGTERM or SIGINT (or once): the loop of the long-running
    commands (`scheduler`, `reconciler`)."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while True:
        round_once()
        if once or stop.wait(interval):
            return
        close_old_connections()  # a long-running loop must not keep a dropped connection

"""Background jobs whose state lives on our own rows.

The task queue (django.tasks, database-backed by default) only carries `(runner name, primary key)`.
Everything a user sees — started, ended, errors, heartbeat — is on the row the runner owns, so a
crashed worker cannot leave a job looking alive: while a job runs, a heartbeat thread touches
`heartbeat_at`; `jobs_reap()` fails jobs whose heartbeat went stale and lets the runner clean up.
"""

import logging
import threading
from datetime import timedelta

from django.conf import settings
from django.db import connection, models, transaction
from django.tasks import task
from django.utils import timezone

logger = logging.getLogger(__name__)

RUNNERS: dict[str, "JobRunner"] = {}


class JobFields(models.Model):
    """The bookkeeping every job row carries."""

    queued_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True


class JobRunner:
    """Subclasses set `name` and `model`, and implement `run(obj)` and `record_failure(obj, message)`.

    `run` records its own outcome (and sets `ended_at`); an exception it raises is recorded with
    `record_failure`, which also removes partial results (after a crash or a reaped worker too).
    """

    name: str
    model: type[models.Model]

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        RUNNERS[cls.name] = cls()

    def run(self, obj) -> None:
        raise NotImplementedError

    def record_failure(self, obj, message: str) -> None:
        raise NotImplementedError

    def enqueue(self, pk) -> None:
        """Queue the job once the current transaction commits, so the worker finds the row."""
        transaction.on_commit(lambda: run_job.enqueue(self.name, str(pk)))

    def claim(self, pk):
        """Mark the row started, unless another worker got it first or it is already over."""
        with transaction.atomic():
            obj = self.model.objects.select_for_update().filter(pk=pk).first()
            if obj is None or obj.started_at is not None or obj.ended_at is not None:
                return None
            obj.started_at = obj.heartbeat_at = timezone.now()
            obj.save(update_fields=["started_at", "heartbeat_at"])
        return obj

    def execute(self, pk) -> None:
        obj = self.claim(pk)
        if obj is None:
            return
        with Heartbeat(self.model, pk):
            try:
                self.run(obj)
            except Exception as error:  # noqa: BLE001 - any failure is recorded on the row, never lost
                logger.exception("Job %s %s failed", self.name, pk)
                self.fail(obj, f"Unexpected error: {error}")

    def fail(self, obj, message: str) -> None:
        obj.refresh_from_db()  # the run may have changed the row before it failed
        self.record_failure(obj, message)


class Heartbeat:
    """Touch `heartbeat_at` every few seconds from a side thread while the job runs."""

    def __init__(self, model, pk):
        self.model, self.pk = model, pk
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._beat, daemon=True, name=f"heartbeat-{pk}")

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.stop.set()
        self.thread.join()

    def _beat(self):
        interval = settings.APPCONTROL_JOB_HEARTBEAT_SECONDS
        try:
            while not self.stop.wait(interval):
                self.model.objects.filter(pk=self.pk, ended_at__isnull=True).update(heartbeat_at=timezone.now())
        finally:
            connection.close()


@task()
def run_job(runner_name: str, pk: str) -> None:
    # The worker (db_worker) refreshes stale database connections between tasks itself.
    RUNNERS[runner_name].execute(pk)


def jobs_reap() -> int:
    """Fail every job whose worker stopped sending heartbeats; return how many were reaped."""
    stale_before = timezone.now() - timedelta(seconds=settings.APPCONTROL_JOB_STALE_SECONDS)
    reaped = 0
    for runner in RUNNERS.values():
        stale = runner.model.objects.filter(
            started_at__isnull=False, ended_at__isnull=True, heartbeat_at__lt=stale_before
        )
        for obj in stale:
            logger.warning("Reaping %s %s: no heartbeat since %s", runner.name, obj.pk, obj.heartbeat_at)
            runner.fail(obj, "The worker stopped while running this job; it was marked failed.")
            reaped += 1
    return reaped

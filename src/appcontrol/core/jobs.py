"""Background jobs whose state lives on our own rows.

The task queue (django.tasks, database-backed by default) only carries `(runner name, primary key)`.
Everything a user sees — started, ended, errors, heartbeat — is on the row the runner owns, so a
crashed worker cannot leave a job looking alive: while a job runs, a heartbeat thread touches
`heartbeat_at`; `jobs_reap()` fails jobs whose heartbeat went stale and lets the runner clean up.

A heartbeat proves the worker lives, not that the job moves: every job also has a deadline
(`APPCONTROL_JOB_TIMEOUT_SECONDS`). Child processes are killed when it passes (`time_left()`), the
heartbeat stops, and the reaper fails a job past its deadline even while its worker still beats.

Jobs that touch the same thing (`concurrency_keys`, e.g. one service instance) run one at a time: a job
whose keys are held is not started but put back in the queue for a little later.
"""

import logging
import threading
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, connection, models, transaction
from django.tasks import default_task_backend, task
from django.utils import timezone

from .models import JobLock

logger = logging.getLogger(__name__)

RUNNERS: dict[str, "JobRunner"] = {}
BUSY_RETRY_SECONDS, BUSY_RETRY_MAX_SECONDS = 2, 30
JOB_LOG_LINES = 1000
# How often a running job looks whether it was asked to stop (one query each time).
CANCEL_CHECK_SECONDS = 2.0
_running = threading.local()


class JobFields(models.Model):
    """The timestamps of anything that is queued, runs and ends."""

    queued_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True


class JobRow(JobFields):
    """The row a job runner owns: its timestamps, its log and a request to cancel it."""

    # Lines "<UTC time> <message>", the newest JOB_LOG_LINES kept (a marker says how many were dropped).
    log = models.JSONField(default=list, blank=True)
    cancel_requested_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True


def time_left() -> float:
    """Seconds until the running job's deadline; the whole job timeout outside a job."""
    deadline = getattr(_running, "deadline", None)
    if deadline is None:
        return float(settings.APPCONTROL_JOB_TIMEOUT_SECONDS)
    return max(deadline - time.monotonic(), 0.0)


def scratch_directory():
    """Where jobs keep local files (verified copies of artifacts, restore scripts)."""
    settings.APPCONTROL_WORK_DIR.mkdir(parents=True, exist_ok=True, mode=0o700)
    return settings.APPCONTROL_WORK_DIR


class DeadlinePassed(Exception):
    """The running job reached its time limit; work done in the worker itself stops here."""


class Cancelled(DeadlinePassed):
    """Someone asked the running job to stop."""


def check_deadline() -> None:
    """Stop work the worker does itself (not in a child, which is killed for it) once the job's time is up or
    it was asked to stop."""
    if time_left() <= 0:
        limit = settings.APPCONTROL_JOB_TIMEOUT_SECONDS
        raise DeadlinePassed(f"The job did not finish within its time limit ({limit} s) and was stopped.")
    job = getattr(_running, "job", None)
    if job is not None and time.monotonic() >= job.next_cancel_check:
        job.next_cancel_check = time.monotonic() + CANCEL_CHECK_SECONDS
        if job.model.objects.filter(pk=job.pk, cancel_requested_at__isnull=False).exists():
            raise Cancelled("The job was cancelled.")


def log(message: str) -> None:
    """Add a line to the running job's log (nothing outside a job, or for rows without a log)."""
    job = getattr(_running, "job", None)
    if job is None or not hasattr(job.model, "log"):
        return
    append_log(job.model, job.pk, [message])


def log_line(message: str) -> str:
    return f"{timezone.now().isoformat(timespec='seconds').replace('+00:00', 'Z')} {message}"


def append_log(model, pk, messages: list[str]) -> None:
    """Add timestamped lines to a row's `log`, keeping the newest JOB_LOG_LINES (a marker says how many
    earlier lines were dropped)."""
    if not messages:
        return
    with transaction.atomic():
        row = model.objects.select_for_update().only("log").get(pk=pk)
        earlier, lines = 0, [*row.log, *(log_line(message) for message in messages)]
        if lines[0].startswith("… "):
            earlier, lines = int(lines[0].split()[1]), lines[1:]
        if earlier or len(lines) > JOB_LOG_LINES:
            keep = JOB_LOG_LINES - 1  # and the marker
            earlier += max(len(lines) - keep, 0)
            lines = [f"… {earlier} earlier lines dropped", *lines[-keep:]]
        model.objects.filter(pk=pk).update(log=lines)


def cancel(runner_name: str, obj) -> bool:
    """Ask a job to stop: a queued one is failed at once, a running one stops at its next check and its child
    programs are killed. Returns whether there was anything to cancel."""
    runner = RUNNERS[runner_name]
    if obj.ended_at is not None:
        return False
    runner.model.objects.filter(pk=obj.pk).update(cancel_requested_at=timezone.now())
    if obj.started_at is None:
        runner.fail(obj, "The job was cancelled before it started.")
    return True


@dataclass
class _Running:
    model: type
    pk: object
    next_cancel_check: float = 0.0


class Busy(Exception):
    """Another running job holds one of this job's concurrency keys."""

    def __init__(self, queued_at=None):
        super().__init__()
        self.queued_at = queued_at

    def retry_in(self) -> float:
        """Seconds until the next try: soon at first, then less often (each try is a queue row)."""
        waited = (timezone.now() - self.queued_at).total_seconds() if self.queued_at else 0
        return min(max(waited / 10, BUSY_RETRY_SECONDS), BUSY_RETRY_MAX_SECONDS)


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

    def concurrency_keys(self, obj) -> list[str]:
        """Keys no two running jobs may share; none by default."""
        return []

    @property
    def timeout(self) -> int:
        return settings.APPCONTROL_JOB_TIMEOUT_SECONDS

    def holder(self, pk) -> str:
        return f"{self.name}:{pk}"

    def enqueue(self, pk) -> None:
        enqueue(self.name, pk)

    def claim(self, pk):
        """Mark the row started and take its keys, unless another worker got it first or it is already
        over (None); raise Busy, changing nothing, while another job holds one of its keys."""
        try:
            with transaction.atomic():
                obj = self.model.objects.select_for_update().filter(pk=pk).first()
                if obj is None or obj.started_at is not None or obj.ended_at is not None:
                    return None
                _locks_take(self.concurrency_keys(obj), self.holder(pk), obj.queued_at)
                obj.started_at = obj.heartbeat_at = timezone.now()
                obj.save(update_fields=["started_at", "heartbeat_at"])
        except IntegrityError:
            raise Busy() from None  # another worker took a key between our check and our insert
        return obj

    def execute(self, pk) -> None:
        while True:
            try:
                obj = self.claim(pk)
                break
            except Busy as busy:
                if _can_defer():
                    logger.info("Job %s %s waits for a job on the same target", self.name, pk)
                    later = timezone.now() + timedelta(seconds=busy.retry_in())
                    run_job.using(run_after=later).enqueue(self.name, str(pk))
                    return
                time.sleep(busy.retry_in())  # a backend that cannot defer: wait here
        if obj is None:
            return
        _running.deadline = time.monotonic() + self.timeout
        _running.job = _Running(self.model, pk)
        try:
            with Heartbeat(self.model, pk, _running.deadline):
                try:
                    self.run(obj)
                except DeadlinePassed as error:
                    self.fail(obj, str(error))
                except Exception as error:  # noqa: BLE001 - any failure is recorded on the row, never lost
                    logger.exception("Job %s %s failed", self.name, pk)
                    self.fail(obj, f"Unexpected error: {error}")
        finally:
            _running.deadline = _running.job = None
            JobLock.objects.filter(holder=self.holder(pk)).delete()

    def fail(self, obj, message: str) -> None:
        obj.refresh_from_db()  # the run may have changed the row before it failed
        self.record_failure(obj, message)
        JobLock.objects.filter(holder=self.holder(obj.pk)).delete()


def enqueue(runner_name: str, pk) -> None:
    """Queue the job `runner_name` for row `pk` once the current transaction commits, so the worker finds
    the row. By name: a service function needs no import of the module that defines the runner."""
    if runner_name not in RUNNERS:
        raise LookupError(f"No job runner named {runner_name!r}; known: {', '.join(sorted(RUNNERS))}.")
    transaction.on_commit(lambda: run_job.enqueue(runner_name, str(pk)))


def _can_defer() -> bool:
    return default_task_backend.supports_defer


def _holder_running(holder: str) -> bool:
    name, _, pk = holder.partition(":")
    runner = RUNNERS.get(name)
    return runner is not None and runner.model.objects.filter(pk=pk, ended_at__isnull=True).exists()


def _locks_take(keys: list[str], holder: str, queued_at) -> None:
    """Take every key or none (inside the caller's transaction); a key whose holder ended is stale."""
    if not keys:
        return
    for lock in JobLock.objects.filter(key__in=keys).exclude(holder=holder):
        if _holder_running(lock.holder):
            raise Busy(queued_at)
        lock.delete()
    JobLock.objects.bulk_create([JobLock(key=key, holder=holder) for key in sorted(set(keys))])


class Heartbeat:
    """Touch `heartbeat_at` every few seconds from a side thread while the job runs, until its deadline."""

    def __init__(self, model, pk, deadline: float):
        self.model, self.pk, self.deadline = model, pk, deadline
        self.job_thread = threading.get_ident()
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
            while not self.stop.wait(interval) and time.monotonic() < self.deadline:
                self.model.objects.filter(pk=self.pk, ended_at__isnull=True).update(heartbeat_at=timezone.now())
                if (
                    hasattr(self.model, "cancel_requested_at")
                    and self.model.objects.filter(pk=self.pk, cancel_requested_at__isnull=False).exists()
                ):
                    kill_children_of(self.job_thread)  # the job itself stops at its next check
        finally:
            connection.close()


# The child programs each job thread is running (core.sandbox registers them), so a cancelled job's
# programs can be killed from its heartbeat thread.
_children: dict[int, set] = {}
_children_lock = threading.Lock()


def child_started(child) -> None:
    with _children_lock:
        _children.setdefault(threading.get_ident(), set()).add(child)


def child_ended(child) -> None:
    with _children_lock:
        _children.get(threading.get_ident(), set()).discard(child)


def kill_children_of(thread_id: int) -> None:
    with _children_lock:
        children = list(_children.get(thread_id, ()))
    for child in children:
        child.cancel()


@task()
def run_job(runner_name: str, pk: str) -> None:
    # The worker (db_worker) refreshes stale database connections between tasks itself.
    RUNNERS[runner_name].execute(pk)


def jobs_reap() -> int:
    """Fail every job whose worker stopped sending heartbeats or which ran past its deadline; return how
    many were reaped."""
    now = timezone.now()
    stale_before = now - timedelta(seconds=settings.APPCONTROL_JOB_STALE_SECONDS)
    reaped = 0
    for runner in RUNNERS.values():
        overdue_before = stale_before - timedelta(seconds=runner.timeout)
        running = runner.model.objects.filter(started_at__isnull=False, ended_at__isnull=True)
        stale = running.filter(models.Q(heartbeat_at__lt=stale_before) | models.Q(started_at__lt=overdue_before))
        for obj in stale:
            if obj.started_at < overdue_before:
                logger.warning("Reaping %s %s: past its time limit (since %s)", runner.name, obj.pk, obj.started_at)
                message = f"The job ran past its time limit ({runner.timeout} s); it was marked failed."
            else:
                logger.warning("Reaping %s %s: no heartbeat since %s", runner.name, obj.pk, obj.heartbeat_at)
                message = "The worker stopped while running this job; it was marked failed."
            runner.fail(obj, message)
            reaped += 1
    return reaped

"""Environment logs: collected from each release's web process (and written by release commands) into
LogEntry, kept for a number of days and lines, and read back a page at a time with cursors that a client
can follow forever (`app logs --tail`)."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db.models import Max
from django.utils import timezone

from appcontrol.runtime.driver import Driver
from appcontrol.runtime.specs import LogLine, RuntimeFailure

from .models import Deployment, LogEntry, Release

MESSAGE_MAX = 8000


def entries_add(environment_id, service: str, messages: list[str], at: datetime | None = None) -> None:
    at = at or timezone.now()
    LogEntry.objects.bulk_create(
        LogEntry(environment_id=environment_id, timestamp=at, service=service, message=message[:MESSAGE_MAX])
        for message in messages
    )


def engine_timestamp(text: str) -> tuple[datetime, int] | None:
    """The engine's RFC 3339 timestamp with nanoseconds ("2026-11-28T07:00:00.123456789Z") as a datetime and
    as nanoseconds since the epoch (the collection cursor, exact where a datetime is not)."""
    try:
        whole, _, fraction = text.rstrip("Z").partition(".")
        moment = datetime.fromisoformat(whole).replace(tzinfo=UTC)
        nanoseconds = int((fraction + "000000000")[:9])
    except ValueError:
        return None
    seconds = int(moment.timestamp())
    return moment + timedelta(microseconds=nanoseconds // 1000), seconds * 1_000_000_000 + nanoseconds


def collect(deployment: Deployment, engine: Driver) -> int:
    """Store what the deployment's web process printed since the last collection; return how many lines."""
    if not deployment.container:
        return 0
    since = deployment.logs_collected_ns / 1e9 if deployment.logs_collected_ns else None
    try:
        lines: list[LogLine] = list(engine.logs(deployment.container, since=since))
    except RuntimeFailure:
        return 0
    entries, newest = [], deployment.logs_collected_ns
    for line in lines:
        parsed = engine_timestamp(line.timestamp)
        if parsed is None or parsed[1] <= deployment.logs_collected_ns:
            continue  # `since` has a resolution of its own: lines at the boundary come again
        entries.append(
            LogEntry(
                environment_id=deployment.environment_id,
                timestamp=parsed[0],
                service="web",
                message=line.message[:MESSAGE_MAX],
            )
        )
        newest = max(newest, parsed[1])
    LogEntry.objects.bulk_create(entries)
    Deployment.objects.filter(pk=deployment.pk).update(logs_collected_ns=newest)
    deployment.logs_collected_ns = newest
    return len(entries)


def collect_all(engine: Driver) -> int:
    releases = Release.objects.select_related("deployment")
    return sum(collect(release.deployment, engine) for release in releases)


def logs_expire() -> int:
    """Delete lines older than the retention period, and the oldest lines of environments over the cap."""
    cutoff = timezone.now() - timedelta(days=settings.APPCONTROL_LOG_RETENTION_DAYS)
    deleted, _ = LogEntry.objects.filter(timestamp__lt=cutoff).delete()
    cap = settings.APPCONTROL_LOG_MAX_LINES
    for environment_id in LogEntry.objects.values_list("environment_id", flat=True).distinct():
        lines = LogEntry.objects.filter(environment_id=environment_id)
        oldest_kept = lines.order_by("-id").values_list("id", flat=True)[cap - 1 : cap].first()
        if oldest_kept is not None:
            removed, _ = lines.filter(id__lt=oldest_kept).delete()
            deleted += removed
    return deleted


@dataclass
class LogPage:
    entries: list[LogEntry]  # oldest first
    newest_id: int  # the cursor `next` continues after (the request's own when nothing is newer)
    has_older: bool


def page(environment_id, *, after: int | None, before: int | None, start, end, size: int) -> LogPage:
    """`after`: the oldest `size` lines newer than it (following a tail); `before`: the newest `size` lines
    older than it (paging back); neither: the newest `size` lines. Always oldest first."""
    lines = LogEntry.objects.filter(environment_id=environment_id)
    if start is not None:
        lines = lines.filter(timestamp__gte=start)
    if end is not None:
        lines = lines.filter(timestamp__lt=end)
    if after is not None:
        entries = list(lines.filter(id__gt=after).order_by("id")[:size])
    else:
        window = lines.filter(id__lt=before) if before is not None else lines
        entries = list(reversed(window.order_by("-id")[:size]))
    newest_id = entries[-1].id if entries else (after if after is not None else _newest_id(lines, before))
    has_older = bool(entries) and lines.filter(id__lt=entries[0].id).exists()
    return LogPage(entries, newest_id, has_older)


def _newest_id(lines, before: int | None) -> int:
    """With no line to show: the cursor a tail would continue from (nothing is lost before it)."""
    if before is not None:
        return before - 1
    return lines.aggregate(newest=Max("id"))["newest"] or 0

"""Rows the job runner keeps for itself."""

from django.db import models
from django.utils import timezone


class JobLock(models.Model):
    """One job at a time per key (e.g. a service instance): a backup and a restore of one database queue
    instead of colliding. A lock whose holder has ended (or vanished) is free to take."""

    key = models.CharField(max_length=200, unique=True)
    holder = models.CharField(max_length=200, db_index=True, help_text="`<runner>:<job id>` holding the key.")
    acquired_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["key"]

    def __str__(self):
        return f"{self.key} held by {self.holder}"


class Counter(models.Model):
    """A shared counter over a time window (rate limits, failed logins) when no Redis is configured: one
    row per key, updated in a single statement so that every server process counts into the same row."""

    key = models.CharField(max_length=200, unique=True)
    count = models.PositiveIntegerField(default=0)
    # Seconds since the epoch: the window ends at `expires_at`; `last_at` is the latest hit.
    expires_at = models.FloatField(db_index=True)
    last_at = models.FloatField()

    def __str__(self):
        return f"{self.key}: {self.count}"

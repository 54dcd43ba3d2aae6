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

from django.conf import settings
from django.db import models
from django.utils import timezone

from appcontrol.accounts.models import Organisation
from appcontrol.core.ids import new_id


class ApplicationActivity(models.Model):
    """One thing that happened to an application (or, with no application, to its organisation): who did
    it, through which token, and the ids involved — never a secret or a sensitive value."""

    uuid = models.UUIDField(primary_key=True, default=new_id, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="activities")
    # An id, not a key: the record outlives the application it tells about.
    application_id = models.UUIDField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    # Copied when recorded: the account may be renamed or removed later.
    user_name = models.CharField(max_length=300, blank=True)
    user_email = models.CharField(max_length=254, blank=True)
    token_prefix = models.CharField(max_length=16, blank=True)
    type = models.CharField(max_length=64)
    description = models.TextField()
    context = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-uuid"]
        indexes = [
            models.Index(fields=["organisation", "-created_at"]),
            models.Index(fields=["application_id", "-created_at"]),
            models.Index(fields=["type", "-created_at"]),
        ]

    def __str__(self):
        return f"{self.type} {self.created_at:%Y-%m-%d %H:%M}"

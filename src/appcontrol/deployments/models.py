from django.conf import settings
from django.db import models
from django.utils import timezone

from appcontrol.applications.models import Application, Environment, Repository
from appcontrol.core.ids import new_id
from appcontrol.core.jobs import JobFields, JobRow


class BuildMode(models.TextChoices):
    AUTO = "AUTO", "re-use a successful build of the same commit, or build"
    ADOPT = "ADOPT", "only re-use a successful build of the same commit"
    FORCE = "FORCE", "always build"


class Build(JobFields):
    """An image built from one commit of an application's repository (build once, release many times)."""

    class State(models.TextChoices):
        BUILDING = "BUILDING"
        COMPLETED = "COMPLETED"

    uuid = models.UUIDField(primary_key=True, default=new_id, editable=False)
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="builds")
    repository = models.ForeignKey(Repository, null=True, on_delete=models.SET_NULL, related_name="builds")
    branch = models.CharField(max_length=200)
    commit = models.CharField(max_length=64)
    image = models.CharField(max_length=300)
    state = models.CharField(max_length=10, choices=State.choices, default=State.BUILDING)
    success = models.BooleanField(null=True)
    log = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-uuid"]
        indexes = [models.Index(fields=["application", "commit"])]

    def __str__(self):
        return f"build {self.pk} of {self.commit[:12]}"


class Status(models.TextChoices):
    QUEUED = "queued"
    FETCHING = "fetching"
    BUILDING = "building"
    RELEASING = "releasing"
    STARTING = "starting"
    HEALTH_CHECKING = "health-checking"
    SWITCHING = "switching"
    DONE = "done"
    FAILED = "failed"


class Deployment(JobRow):
    """One release of an environment: fetch, build (or re-use a build), run the release commands, start,
    health-check, switch the route, retire the old release. `success` and `ended_at` are set in one write."""

    uuid = models.UUIDField(primary_key=True, default=new_id, editable=False)
    environment = models.ForeignKey(Environment, on_delete=models.CASCADE, related_name="deployments")
    # The environment's application, copied: the list's `application` filter and scope need no join.
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="deployments", editable=False)
    build_mode = models.CharField(max_length=8, choices=BuildMode.choices, default=BuildMode.AUTO)
    # Set up front for a rollback (re-release of an earlier build), else once built or re-used.
    build = models.ForeignKey(Build, null=True, blank=True, on_delete=models.SET_NULL, related_name="deployments")
    is_rollback = models.BooleanField(default=False)
    branch = models.CharField(max_length=200, blank=True)
    commit = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    percent = models.PositiveSmallIntegerField(default=0)
    success = models.BooleanField(null=True)
    errors = models.TextField(blank=True)
    # {NAME: {"value": ..., "sensitive": bool}}: what the release ran with.
    environment_variables = models.JSONField(default=dict, blank=True)
    # The web process this deployment started; it serves once the deployment succeeded.
    container = models.CharField(max_length=200, blank=True)
    port = models.PositiveIntegerField(null=True, blank=True)
    # How far its web process's output has been collected into LogEntry (nanoseconds since the epoch).
    logs_collected_ns = models.BigIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-uuid"]
        indexes = [
            models.Index(fields=["-created_at", "-uuid"]),
            models.Index(fields=["environment", "-created_at"]),
            models.Index(fields=["application", "-created_at"]),
        ]

    def __str__(self):
        return f"deployment {self.pk} of {self.environment_id}"


class LogEntry(models.Model):
    """A line an environment's processes printed (`web`) or its release commands (`release`)."""

    id = models.BigAutoField(primary_key=True)
    environment = models.ForeignKey(Environment, on_delete=models.CASCADE, related_name="log_entries", db_index=False)
    timestamp = models.DateTimeField()
    service = models.CharField(max_length=20)
    message = models.TextField()

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["environment", "id"]), models.Index(fields=["timestamp"])]

    def __str__(self):
        return f"{self.timestamp} {self.service} {self.message[:40]}"


class Release(models.Model):
    """What serves an environment now: the route points at this deployment's web process."""

    environment = models.OneToOneField(Environment, on_delete=models.CASCADE, primary_key=True, related_name="release")
    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="+")
    switched_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"release of {self.environment_id}: {self.deployment_id}"


BuildState = Build.State  # for the OpenAPI schema's enum names

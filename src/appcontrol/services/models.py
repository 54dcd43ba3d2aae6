"""The service catalogue and the service instances that environments own."""

from django.db import models
from django.utils import timezone

from appcontrol.applications.models import Environment, Region
from appcontrol.core.ids import new_id
from appcontrol.core.jobs import JobRow


class ServiceType(models.TextChoices):
    DATABASE = "DATABASE"
    STORAGE = "STORAGE"


class Engine(models.TextChoices):
    POSTGRES = "postgres", "PostgreSQL"
    SQLITE = "sqlite", "SQLite"
    FILESYSTEM = "filesystem", "Local directory"
    S3 = "s3", "S3 bucket"


ENGINE_TYPES = {
    Engine.POSTGRES: ServiceType.DATABASE,
    Engine.SQLITE: ServiceType.DATABASE,
    Engine.FILESYSTEM: ServiceType.STORAGE,
    Engine.S3: ServiceType.STORAGE,
}


class Service(models.Model):
    uuid = models.UUIDField(primary_key=True, default=new_id, editable=False)
    identifier = models.SlugField(max_length=63, unique=True)
    name = models.CharField(max_length=100)
    type = models.CharField(max_length=16, choices=ServiceType.choices)
    engine = models.CharField(max_length=16, choices=Engine.choices, unique=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["type", "name", "uuid"]

    def __str__(self):
        return self.identifier


class ServiceStatus(models.TextChoices):
    NEW = "NEW"
    PROVISIONING = "PROVISIONING"
    ATTACHED = "ATTACHED"
    ERROR = "ERROR"


class ServiceInstance(JobRow):
    """A real database or storage area of one environment; the provisioning job attaches it."""

    uuid = models.UUIDField(primary_key=True, default=new_id, editable=False)
    environment = models.ForeignKey(Environment, on_delete=models.PROTECT, related_name="service_instances")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="instances")
    prefix = models.CharField(max_length=32, default="DEFAULT")
    type = models.CharField(max_length=16, choices=ServiceType.choices)
    region = models.ForeignKey(Region, null=True, blank=True, on_delete=models.SET_NULL)
    service_status = models.CharField(max_length=16, choices=ServiceStatus.choices, default=ServiceStatus.NEW)
    errors = models.JSONField(default=list, blank=True)
    # Engine-specific location (database name, file path, bucket prefix); never credentials.
    resource = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["environment_id", "type", "prefix", "uuid"]
        constraints = [
            models.UniqueConstraint(fields=["environment", "type", "prefix"], name="one_instance_per_env_type_prefix")
        ]

    def __str__(self):
        return f"{self.environment} {self.type} {self.prefix}"

    @property
    def engine(self) -> str:
        return self.service.engine

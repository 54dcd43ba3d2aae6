import re

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone

from appcontrol.accounts.models import Organisation
from appcontrol.accounts.ownership import OrganisationOwned
from appcontrol.core import secret_box
from appcontrol.core.ids import new_id
from appcontrol.core.jobs import JobRow

# Slugs end up in host names and database names: DNS label rules, lower case.
slug_validator = RegexValidator(
    r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$",
    "Use lower-case letters, digits and hyphens; start and end with a letter or digit.",
)
# What `git check-ref-format --branch` refuses; a leading "-" would also read as an option to git.
BRANCH_FORBIDDEN = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]|\.\.|@\{|//")


def branch_validator(value: str) -> None:
    """A git branch name by `git check-ref-format --branch` rules (and not starting with `-`)."""
    problem = None
    if not value or value in {"@", "HEAD"} or value.startswith("-"):
        problem = "must not be empty, '@' or 'HEAD', nor start with '-'"
    elif BRANCH_FORBIDDEN.search(value):
        problem = "must not contain spaces, control characters, '..', '//', '@{' or any of ~ ^ : ? * [ \\"
    elif value.startswith("/") or value.endswith(("/", ".")):
        problem = "must not start with '/' nor end with '/' or '.'"
    elif any(part.startswith(".") or part.endswith(".lock") for part in value.split("/")):
        problem = "no part may start with '.' or end with '.lock'"
    if problem:
        raise ValidationError(f"Enter a valid git branch name: it {problem}.", code="invalid")


DEFAULT_ENVIRONMENTS = ("test", "live")


class Region(models.Model):
    uuid = models.UUIDField(primary_key=True, default=new_id, editable=False)
    slug = models.SlugField(max_length=63, unique=True)
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["name", "uuid"]

    def __str__(self):
        return self.name


class KeyType(models.TextChoices):
    ED25519 = "ED25519"
    ECDSA = "ECDSA"
    RSA = "RSA"


class Repository(JobRow):
    """A git repository applications deploy from; the server keeps a bare mirror of it. The job fields
    track its first clone (state CLONING until it ends)."""

    class State(models.TextChoices):
        CLONING = "CLONING"
        CLONED = "CLONED"
        INVALID = "INVALID"

    uuid = models.UUIDField(primary_key=True, default=new_id, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="repositories")
    url = models.CharField(max_length=2000)
    state = models.CharField(max_length=10, choices=State.choices, default=State.CLONING)
    reason = models.TextField(blank=True, help_text="Why the repository is INVALID.")
    # Added by an operator: may be on this server's own network (members' repositories may not).
    allow_internal = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    # Private repositories: an SSH deploy key the server made (its public half is shown to add at the git
    # host), or a user name and password (or token) for HTTPS. Secrets only encrypted (core.secret_box).
    key_type = models.CharField(max_length=10, choices=KeyType.choices, blank=True)
    public_key = models.TextField(blank=True)
    private_key_encrypted = models.TextField(blank=True)
    username = models.CharField(max_length=200, blank=True)
    password_encrypted = models.TextField(blank=True)
    # The SSH host keys seen on first contact (known_hosts lines): a host presenting another key is refused.
    known_hosts = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "uuid"]

    def __str__(self):
        return self.url

    @property
    def private_key(self) -> str:
        return secret_box.decrypt(self.private_key_encrypted)

    @property
    def password(self) -> str:
        return secret_box.decrypt(self.password_encrypted)


class PlanGroup(models.Model):
    """What an application may be created with (`/billing/v3/application-plan-groups/`): a name and the
    regions it offers — no regions means every region. Plans cost nothing here."""

    uuid = models.UUIDField(primary_key=True, default=new_id, editable=False)
    name = models.CharField(max_length=100)
    regions = models.ManyToManyField(Region, blank=True, related_name="plan_groups")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "uuid"]

    def __str__(self):
        return self.name


class AppTemplate(models.Model):
    """A git repository the operator offers as a starting point (`appcontrol templates add`); an application
    created from it starts with its files in the application's hosted repository."""

    uuid = models.UUIDField(primary_key=True, default=new_id, editable=False)
    identifier = models.SlugField(max_length=63, unique=True)
    name = models.CharField(max_length=200)
    short_description = models.CharField(max_length=500, blank=True)
    url = models.CharField(max_length=2000, unique=True, help_text="The git URL users name the template by.")
    branch = models.CharField(max_length=200, default="main", validators=[branch_validator])
    is_default = models.BooleanField(default=False)
    order = models.IntegerField(default=0)
    icon_dark_mode = models.URLField(blank=True)
    # [{"label", "command"}], [{"identifier", "prefix"}], [{"name", "value"}]
    release_commands = models.JSONField(default=list, blank=True)
    services = models.JSONField(default=list, blank=True)
    tags = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["order", "name", "uuid"]

    def __str__(self):
        return self.identifier


class Application(models.Model):
    uuid = models.UUIDField(primary_key=True, default=new_id, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="applications")
    slug = models.CharField(max_length=63, unique=True, validators=[slug_validator])
    name = models.CharField(max_length=200)
    region = models.ForeignKey(Region, null=True, blank=True, on_delete=models.PROTECT)
    repository = models.ForeignKey(
        Repository, null=True, blank=True, on_delete=models.PROTECT, related_name="applications"
    )
    # [{"label": ..., "command": ...}], run in order in a one-off container before a release starts.
    release_commands = models.JSONField(default=list, blank=True)
    plan_group = models.ForeignKey(PlanGroup, null=True, blank=True, on_delete=models.SET_NULL)
    template = models.ForeignKey(AppTemplate, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "uuid"]

    def __str__(self):
        return self.slug


class LegacyApplicationId(models.Model):
    """The number older clients name an application by (divio-cli's numeric `--remote-id`)."""

    id = models.AutoField(primary_key=True)
    application = models.OneToOneField(Application, on_delete=models.CASCADE, related_name="legacy_id")

    def __str__(self):
        return str(self.id)


class Environment(OrganisationOwned):
    uuid = models.UUIDField(primary_key=True, default=new_id, editable=False)
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="environments")
    organisation_from = "application"
    slug = models.CharField(max_length=63, validators=[slug_validator])
    branch = models.CharField(max_length=200, default="main", validators=[branch_validator])
    # A push to the application's hosted repository that changes `branch` deploys the environment.
    auto_deploy = models.BooleanField(default=False)
    # Set by the deployments app when a deployment ends (an id, not a key: deployments build on this app).
    last_finished_deployment_id = models.UUIDField(null=True, blank=True, editable=False)
    # A variable written after the start of the last successful deployment waits for the next one.
    variables_changed_at = models.DateTimeField(null=True, blank=True, editable=False)
    variables_deployed_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["application_id", "created_at", "uuid"]
        constraints = [models.UniqueConstraint(fields=["application", "slug"], name="environment_slug_unique_per_app")]

    def __str__(self):
        return f"{self.application.slug}/{self.slug}"


class Domain(models.Model):
    uuid = models.UUIDField(primary_key=True, default=new_id, editable=False)
    environment = models.ForeignKey(Environment, on_delete=models.CASCADE, related_name="domains")
    domain = models.CharField(max_length=253, unique=True)
    is_primary = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["domain", "uuid"]
        constraints = [
            models.UniqueConstraint(
                fields=["environment"],
                condition=models.Q(is_primary=True),
                name="one_primary_domain_per_environment",
            )
        ]

    def __str__(self):
        return self.domain


# Names the platform gives a release itself, or that a service instance's credentials take.
RESERVED_VARIABLE_NAMES = re.compile(r"^(PORT|DATABASE_URL|[A-Z0-9_]+_DATABASE_URL|[A-Z0-9_]+_STORAGE_DSN)$")
VARIABLE_VALUE_MAX_LENGTH = 32 * 1024


class EnvironmentVariable(models.Model):
    """A variable an environment's application receives; service instances add their credentials here.

    Who reads a sensitive value: one written through the API or made by the platform (SECRET_KEY) is
    write-only, returned to nobody; a service instance's credentials are shown to owners and admins."""

    uuid = models.UUIDField(primary_key=True, default=new_id, editable=False)
    environment = models.ForeignKey(Environment, on_delete=models.CASCADE, related_name="variables")
    name = models.CharField(
        max_length=255,
        validators=[RegexValidator(r"^[A-Za-z_][A-Za-z0-9_]*$", "Use letters, digits and underscores.")],
    )
    value = models.TextField(blank=True)
    is_sensitive = models.BooleanField(default=False)
    service_instance = models.ForeignKey(
        "services.ServiceInstance", null=True, blank=True, on_delete=models.CASCADE, related_name="variables"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["environment_id", "name", "uuid"]
        constraints = [
            models.UniqueConstraint(fields=["environment", "name"], name="variable_name_unique_per_environment")
        ]

    def __str__(self):
        return self.name

    @property
    def is_write_only(self) -> bool:
        return self.is_sensitive and self.service_instance_id is None


RepositoryState = Repository.State  # for the OpenAPI schema's enum names

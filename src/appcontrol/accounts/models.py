"""Users, organisations, memberships with roles, and access tokens stored only as hashes."""

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.utils import timezone as django_timezone

from appcontrol.core.ids import new_id


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email, password=None, **extra):
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    uuid = models.UUIDField(primary_key=True, default=new_id, editable=False)
    email = models.EmailField(unique=True)
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    timezone = models.CharField(max_length=64, default="UTC")
    # An API-only account never logs in with a password; it exists to own scoped tokens.
    is_api_only = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=django_timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"

    class Meta:
        ordering = ["email"]

    def __str__(self):
        return self.email


class Organisation(models.Model):
    uuid = models.UUIDField(primary_key=True, default=new_id, editable=False)
    slug = models.SlugField(max_length=63, unique=True)
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=django_timezone.now)
    rate_limit = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="API requests a minute for each token of this organisation; empty: the server's default.",
    )
    environment_limit = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Environments this organisation may have (0: no limit); empty: APPCONTROL_ENVIRONMENT_LIMIT.",
    )

    class Meta:
        ordering = ["name", "uuid"]

    def __str__(self):
        return self.slug


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    MEMBER = "member", "Member"


# Roles allowed to destroy things (applications, environments, restores into live).
MANAGING_ROLES = frozenset({Role.OWNER, Role.ADMIN})


class Membership(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(default=django_timezone.now)

    class Meta:
        ordering = ["organisation__name", "user__email"]
        constraints = [models.UniqueConstraint(fields=["user", "organisation"], name="one_membership_per_user_and_org")]

    def __str__(self):
        return f"{self.user} in {self.organisation} ({self.role})"


class AccessToken(models.Model):
    """A bearer token; only its prefix (to find it) and its SHA-256 digest (to check it) are kept."""

    uuid = models.UUIDField(primary_key=True, default=new_id, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="access_tokens")
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=16, unique=True)
    digest = models.CharField(max_length=64)
    organisation = models.ForeignKey(
        Organisation,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="access_tokens",
        help_text="When set, the token sees this organisation only.",
    )
    read_only = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=django_timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "uuid"]

    def __str__(self):
        return f"{self.prefix}… ({self.name or 'unnamed'})"

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= django_timezone.now()

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class IdempotentRequest(models.Model):
    """A POST sent with an `Idempotency-Key`: its fingerprint while it runs, then its response, replayed for
    a retry of the same request with the same key by the same token for a day."""

    token = models.ForeignKey(AccessToken, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the method, path, query and body.")
    created_at = models.DateTimeField(default=django_timezone.now, db_index=True)
    # Null while the first request runs.
    status_code = models.PositiveSmallIntegerField(null=True)
    content_type = models.CharField(max_length=200, blank=True)
    location = models.CharField(max_length=2000, blank=True)
    body = models.BinaryField(default=b"")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["token", "key"], name="one_response_per_token_and_key")]

    def __str__(self):
        return f"{self.key} ({self.status_code or 'running'})"

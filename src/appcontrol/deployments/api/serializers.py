from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from appcontrol.accounts.models import MANAGING_ROLES
from appcontrol.accounts.selectors import visible_organisations
from appcontrol.applications.models import RESERVED_VARIABLE_NAMES, KeyType, Repository, branch_validator
from appcontrol.applications.selectors import environments_visible
from appcontrol.core.fields import IdField, RelatedIdField

from ..git import url_problem
from ..models import Build, BuildMode, Deployment
from ..selectors import builds_visible


def no_control_characters(value: str) -> None:
    # git's credential protocol is line based: a newline would smuggle in another field.
    if any(ord(character) < 32 or ord(character) == 127 for character in value):
        raise serializers.ValidationError("Must not contain control characters or line breaks.")


class RepositorySerializer(serializers.ModelSerializer):
    uuid = IdField()
    organisation = RelatedIdField(scope=visible_organisations)
    url = serializers.CharField(
        max_length=2000,
        help_text="The git URL: https://, http:// or git://; for SSH ssh://user@host[:port]/path or user@host:path "
        "(a deploy key is made); file:// for operators. Never credentials in it.",
    )
    key_type = serializers.ChoiceField(
        choices=KeyType.choices,
        required=False,
        allow_blank=True,
        help_text="SSH URLs: the kind of deploy key to make (ED25519 by default).",
    )
    username = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        validators=[no_control_characters],
        help_text="HTTPS URLs of private repositories: the user name at the git host.",
    )
    password = serializers.CharField(
        max_length=4000,
        required=False,
        allow_blank=True,
        write_only=True,
        trim_whitespace=False,
        validators=[no_control_characters],
        style={"input_type": "password"},
        help_text="HTTPS URLs: the password or access token (stored encrypted, never shown).",
    )
    auth_info = serializers.SerializerMethodField(
        help_text="SSH URLs: the deploy key's public half (OpenSSH format) to add at the git host, read access "
        "being enough; null otherwise."
    )
    dsn = serializers.CharField(source="url", read_only=True, help_text="The git URL (as divio-cli reads it).")
    reason = serializers.CharField(read_only=True, help_text="Why the repository is INVALID; empty otherwise.")

    class Meta:
        model = Repository
        fields = [
            "uuid", "organisation", "url", "dsn", "key_type", "username", "password", "auth_info", "state",
            "reason", "created_at",
        ]  # fmt: skip
        read_only_fields = ["state", "created_at"]

    def get_auth_info(self, repository) -> str | None:
        return repository.public_key or None

    def validate_url(self, value: str) -> str:
        # Here as well as in the service: `{url}` alone (divio-cli's validator) must answer `url` errors.
        request = self.context.get("request")
        problem = url_problem(value, operator=bool(request and request.user.is_superuser))
        if problem:
            raise serializers.ValidationError(problem)
        return value


class RepositoryCheckSerializer(serializers.Serializer):
    branch = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        validators=[branch_validator],
        help_text="A branch that must exist; without it only access is checked.",
    )


class RepositoryCheckResultSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="`success`.")


class RepositoryCheckErrorSerializer(serializers.Serializer):
    # Not required: a request refused before git runs (its body, a header) has the API's usual 400 shape.
    code = serializers.ChoiceField(
        choices=["host_key", "authentication", "unreachable", "not_found", "branch_missing", "error"],
        required=False,
        help_text="What is wrong: the host's SSH key changed, the credentials were refused, the host cannot be "
        "reached, no such repository, no such branch, or another git error.",
    )
    non_field_errors = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="What to do about it."
    )


class BuildSerializer(serializers.ModelSerializer):
    uuid = IdField()
    application = RelatedIdField(read_only=True)
    repository = RelatedIdField(read_only=True, allow_null=True)

    class Meta:
        model = Build
        fields = [
            "uuid", "application", "repository", "branch", "commit", "image", "state",
            "success", "created_at", "started_at", "ended_at",
        ]  # fmt: skip
        read_only_fields = fields


class DeploymentSerializer(serializers.ModelSerializer):
    uuid = IdField()
    environment = RelatedIdField(read_only=True)
    application = RelatedIdField(read_only=True)
    build = RelatedIdField(read_only=True, allow_null=True)
    started_at = serializers.SerializerMethodField(help_text="When it started; while queued, when it was queued.")
    status = serializers.ChoiceField(choices=Deployment._meta.get_field("status").choices, read_only=True)
    environment_variables = serializers.SerializerMethodField(help_text="The names of the variables it ran with.")

    class Meta:
        model = Deployment
        fields = [
            "uuid", "environment", "application", "build", "build_mode", "commit", "status", "percent",
            "success", "errors", "environment_variables", "created_at", "started_at", "ended_at",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(serializers.DateTimeField())
    def get_started_at(self, deployment):
        return serializers.DateTimeField().to_representation(deployment.started_at or deployment.queued_at)

    def get_environment_variables(self, deployment) -> list[str]:
        return sorted(deployment.environment_variables)


class DeploymentCreateSerializer(serializers.Serializer):
    environment = RelatedIdField(scope=environments_visible)
    build_mode = serializers.ChoiceField(choices=BuildMode.choices, default=BuildMode.AUTO)
    build = RelatedIdField(
        scope=builds_visible,
        required=False,
        allow_null=True,
        help_text="Re-release this earlier successful build (a rollback): nothing is fetched or built.",
    )


class LogsSerializer(serializers.Serializer):
    uuid = IdField()
    logs = serializers.CharField(help_text="Every step with its UTC time, a line each.")


class DeploymentVariablesSerializer(serializers.Serializer):
    environment = IdField()
    environment_variables = serializers.DictField(
        child=serializers.CharField(allow_null=True),
        help_text="NAME to value; sensitive values are null, except service credentials for owners and admins.",
    )


def _write_only(name: str, entry: dict) -> bool:
    """Snapshots say so; older ones did not: there, only service credentials' names are readable."""
    if "write_only" in entry:
        return entry["write_only"]
    return not (RESERVED_VARIABLE_NAMES.match(name) and name != "PORT")


def deployment_variables(deployment: Deployment, caller_role: str | None) -> dict:
    shown = caller_role in MANAGING_ROLES
    return {
        name: (entry["value"] if not entry.get("sensitive") or (shown and not _write_only(name, entry)) else None)
        for name, entry in sorted(deployment.environment_variables.items())
    }


class LogEntrySerializer(serializers.Serializer):
    timestamp = serializers.DateTimeField()
    service = serializers.CharField(help_text="`web` (the web process) or `release` (release commands).")
    message = serializers.CharField()


class LogPageSerializer(serializers.Serializer):
    next = serializers.URLField(
        help_text="Lines newer than this page (never null: follow it to tail the log; it stays the same while "
        "nothing new arrives)."
    )
    previous = serializers.URLField(help_text="Older lines; the request's own URL when there are none.")
    results = LogEntrySerializer(many=True, help_text="Oldest first; without a cursor, the newest lines.")


class LogQuerySerializer(serializers.Serializer):
    from_ts = serializers.DateTimeField(
        required=False, help_text="Lines at or after this time (UTC unless an offset is given), e.g. 2026-11-28T07:00."
    )
    to_ts = serializers.DateTimeField(required=False, help_text="Lines before this time.")
    after = serializers.IntegerField(required=False, min_value=0, help_text="Cursor: lines newer than this one.")
    before = serializers.IntegerField(required=False, min_value=1, help_text="Cursor: lines older than this one.")
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=1000, default=100)

    def validate(self, attrs):
        if "after" in attrs and "before" in attrs:
            raise serializers.ValidationError("Give `after` or `before`, not both.")
        return attrs

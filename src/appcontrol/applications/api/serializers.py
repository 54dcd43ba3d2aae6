from django.conf import settings
from django.core.validators import DomainNameValidator, URLValidator
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.validators import UniqueValidator

from appcontrol.accounts.models import MANAGING_ROLES
from appcontrol.accounts.selectors import visible_organisations
from appcontrol.core.fields import IdField, RelatedIdField
from appcontrol.core.ids import encode_id

from .. import services, variables
from ..hosts import environment_url
from ..models import (
    VARIABLE_VALUE_MAX_LENGTH,
    Application,
    AppTemplate,
    Domain,
    Environment,
    EnvironmentVariable,
    PlanGroup,
    Region,
    branch_validator,
)
from ..selectors import (
    applications_visible,
    environments_visible,
    plan_groups_visible,
    regions_visible,
    repositories_visible,
)


class RegionSerializer(serializers.ModelSerializer):
    uuid = IdField()

    class Meta:
        model = Region
        fields = ["uuid", "slug", "name"]


class ReleaseCommandSerializer(serializers.Serializer):
    label = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    command = serializers.CharField(max_length=10000)


class ApplicationSerializer(serializers.ModelSerializer):
    """An application; its organisation is fixed once created."""

    uuid = IdField()
    organisation = RelatedIdField(read_only=True)
    region = RelatedIdField(read_only=True, allow_null=True)
    slug = serializers.CharField(
        max_length=63,
        validators=[
            *Application._meta.get_field("slug").validators,
            UniqueValidator(Application.objects.all(), message="This slug is already taken."),
        ],
    )
    repository = RelatedIdField(
        scope=repositories_visible,
        required=False,
        allow_null=True,
        help_text="The git repository the application deploys from (POST /apps/v3/repositories/ first).",
    )
    release_commands = ReleaseCommandSerializer(
        many=True,
        required=False,
        allow_null=True,
        max_length=50,
        help_text="Commands run in order in a one-off container before a release starts; one failing stops it.",
    )

    git_url = serializers.SerializerMethodField(
        help_text="Where to push the application's code (`git push <git_url> <branch>`, an API token as the "
        "password) when it has no `repository`; null when it deploys from an external repository."
    )

    class Meta:
        model = Application
        fields = [
            "uuid", "slug", "name", "organisation", "region", "repository", "git_url", "release_commands", "created_at"
        ]  # fmt: skip
        read_only_fields = ["created_at"]

    def get_git_url(self, application) -> str | None:
        if application.repository_id is not None:
            return None
        path = reverse("git", kwargs={"path": f"{application.organisation.slug}/{application.slug}.git"})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path

    def validate(self, attrs):
        if "release_commands" in attrs and attrs["release_commands"] is None:
            attrs["release_commands"] = []  # divio-cli sends null for "none"
        repository = attrs.get("repository")
        organisation = attrs.get("organisation") or (self.instance.organisation if self.instance else None)
        if repository is not None and organisation is not None and repository.organisation_id != organisation.pk:
            raise serializers.ValidationError({"repository": ["The repository belongs to another organisation."]})
        return attrs

    def update(self, instance, validated_data):
        return services.application_update(application=instance, changes=validated_data)


class ApplicationCreateSerializer(ApplicationSerializer):
    organisation = RelatedIdField(scope=visible_organisations)
    region = RelatedIdField(
        scope=regions_visible,
        required=False,
        help_text="Defaults to the plan group's first region (the server's first when it offers all).",
    )
    branch = serializers.CharField(
        write_only=True,
        required=False,
        default="main",
        validators=[branch_validator],
        help_text="The git branch the new test and live environments deploy.",
    )
    plan_group = RelatedIdField(
        scope=plan_groups_visible,
        required=False,
        allow_null=True,
        help_text="Defaults to the server's first plan group (/billing/v3/application-plan-groups/).",
    )
    app_template = serializers.CharField(
        write_only=True,
        required=False,
        allow_null=True,
        max_length=2000,
        source="template",
        help_text="The `url` of one of the server's templates (/apps/v3/app-templates/): the hosted repository "
        "starts with its files.",
    )

    class Meta(ApplicationSerializer.Meta):
        fields = [*ApplicationSerializer.Meta.fields, "branch", "plan_group", "app_template"]

    def validate_app_template(self, value):
        if value in (None, ""):
            return None
        template = AppTemplate.objects.filter(url=value).first()
        if template is None:
            URLValidator(message="Enter a valid URL.")(value)
            raise serializers.ValidationError("Not one of this server's templates: see GET /apps/v3/app-templates/.")
        return template

    def validate(self, attrs):
        attrs = super().validate(attrs)
        plan_group, region = attrs.get("plan_group"), attrs.get("region")
        if plan_group is not None and region is not None:
            offered = plan_group.regions.all()
            if offered.exists() and region not in offered:
                raise serializers.ValidationError({"region": ["The plan group does not offer this region."]})
        if attrs.get("template") is not None and attrs.get("repository") is not None:
            raise serializers.ValidationError(
                {"app_template": ["A template fills the hosted repository: leave `repository` out to use one."]}
            )
        return attrs

    def create(self, validated_data):
        return services.application_create(**validated_data)


class LastDeploymentSerializer(serializers.Serializer):
    uuid = IdField()


class EnvironmentSerializer(serializers.ModelSerializer):
    uuid = IdField()
    application = RelatedIdField(read_only=True)
    slug = serializers.CharField(read_only=True)
    last_finished_deployment = serializers.SerializerMethodField(
        help_text="The most recent finished deployment (successful or not), or null when there is none."
    )
    url = serializers.SerializerMethodField(help_text="Where the environment answers through the router.")
    variables_pending = serializers.SerializerMethodField(
        help_text="True when a variable changed after the last successful deployment started: deploy to apply it."
    )

    class Meta:
        model = Environment
        fields = [
            "uuid", "application", "slug", "branch", "auto_deploy", "last_finished_deployment", "url",
            "variables_pending", "created_at",
        ]  # fmt: skip
        extra_kwargs = {
            "auto_deploy": {
                "help_text": "Deploy the environment when a push to the application's hosted repository (its "
                "`git_url`) changes its branch."
            }
        }
        read_only_fields = ["created_at"]

    @extend_schema_field(LastDeploymentSerializer(allow_null=True))
    def get_last_finished_deployment(self, environment):
        deployment_id = environment.last_finished_deployment_id
        return None if deployment_id is None else {"uuid": encode_id(deployment_id)}

    def get_url(self, environment) -> str:
        return environment_url(environment)

    def get_variables_pending(self, environment) -> bool:
        return variables_pending(environment)

    def update(self, instance, validated_data):
        return services.environment_update(environment=instance, changes=validated_data)


class EnvironmentCreateSerializer(EnvironmentSerializer):
    application = RelatedIdField(scope=applications_visible)
    slug = serializers.CharField(max_length=63, validators=Environment._meta.get_field("slug").validators)

    class Meta(EnvironmentSerializer.Meta):
        validators = []

    def validate(self, attrs):
        if Environment.objects.filter(application=attrs["application"], slug=attrs["slug"]).exists():
            raise serializers.ValidationError({"slug": ["This application already has an environment with this slug."]})
        return attrs

    def create(self, validated_data):
        return services.environment_create(**validated_data)


class DomainSerializer(serializers.ModelSerializer):
    uuid = IdField()
    environment = RelatedIdField(scope=environments_visible)
    domain = serializers.CharField(
        max_length=253,
        validators=[UniqueValidator(Domain.objects.all(), message="This domain is already in use.", lookup="iexact")],
    )

    class Meta:
        model = Domain
        fields = ["uuid", "environment", "domain", "is_primary", "created_at"]
        read_only_fields = ["created_at"]
        # A new primary domain demotes the old one (domain_create) instead of being refused.
        validators = []

    def validate_domain(self, value):
        DomainNameValidator(accept_idna=False)(value)
        value = value.lower()
        platform = settings.APPCONTROL_APPS_DOMAIN.lower()
        if value == platform or value.endswith(f".{platform}"):
            # The router's own host names (<application>-<environment>.<domain>) are no tenant's to claim.
            raise serializers.ValidationError(f"Names under {platform} are the server's own; use a domain of yours.")
        return value

    def create(self, validated_data):
        return services.domain_create(**validated_data)


class EnvironmentVariableSerializer(serializers.ModelSerializer):
    uuid = IdField()
    environment = RelatedIdField(read_only=True)
    name = serializers.CharField(read_only=True)
    service_instance = RelatedIdField(read_only=True, allow_null=True)
    value = serializers.SerializerMethodField(
        help_text="The value. Null for a sensitive variable you or the platform wrote (write-only, for everyone); "
        "a service instance's credentials are shown to owners and admins only."
    )
    pending_deployment = serializers.SerializerMethodField(
        help_text="True when the environment's variables changed after its last successful deployment started: "
        "a change applies at the next deployment."
    )

    class Meta:
        model = EnvironmentVariable
        fields = [
            "uuid", "environment", "name", "value", "is_sensitive", "service_instance", "pending_deployment",
            "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["is_sensitive", "created_at", "updated_at"]

    def get_value(self, variable) -> str | None:
        if variable.is_write_only:
            return None
        if variable.is_sensitive and getattr(variable, "caller_role", None) not in MANAGING_ROLES:
            return None
        return variable.value

    def get_pending_deployment(self, variable) -> bool:
        return variables_pending(variable.environment)


def variables_pending(environment: Environment) -> bool:
    changed, deployed = environment.variables_changed_at, environment.variables_deployed_at
    return changed is not None and (deployed is None or changed > deployed)


class EnvironmentVariableCreateSerializer(EnvironmentVariableSerializer):
    environment = RelatedIdField(scope=environments_visible)
    name = serializers.RegexField(
        r"^[A-Za-z_][A-Za-z0-9_]*$",
        max_length=255,
        error_messages={"invalid": "Use a POSIX name: letters, digits and underscores, not starting with a digit."},
    )
    value = serializers.CharField(
        write_only=True, allow_blank=True, max_length=VARIABLE_VALUE_MAX_LENGTH, trim_whitespace=False
    )
    is_sensitive = serializers.BooleanField(
        default=False, help_text="Sensitive values are write-only: nobody reads them back through the API."
    )

    class Meta(EnvironmentVariableSerializer.Meta):
        read_only_fields = ["created_at", "updated_at"]
        validators = []  # variable_create says which name is taken, and how to change it instead

    def to_representation(self, instance):
        # As a GET answers it (the value stays write-only when sensitive), with the change just made.
        instance.environment.refresh_from_db(fields=["variables_changed_at", "variables_deployed_at"])
        return EnvironmentVariableSerializer(instance, context=self.context).data

    def create(self, validated_data):
        return variables.variable_create(**validated_data)


class EnvironmentVariableUpdateSerializer(EnvironmentVariableCreateSerializer):
    environment = RelatedIdField(read_only=True)
    name = serializers.CharField(read_only=True)
    value = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=VARIABLE_VALUE_MAX_LENGTH,
        trim_whitespace=False,
    )
    is_sensitive = serializers.BooleanField(required=False)

    def update(self, instance, validated_data):
        return variables.variable_update(variable=instance, changes=validated_data)


class AppTemplateServiceSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="The service's `identifier` (/apps/v3/services/), as divio-cli reads it.")
    identifier = serializers.CharField()
    prefix = serializers.CharField()


class AppTemplateSerializer(serializers.ModelSerializer):
    uuid = IdField()

    class Meta:
        model = AppTemplate
        fields = ["uuid", "identifier", "name", "short_description", "url", "is_default", "order"]


class AppTemplateDetailSerializer(AppTemplateSerializer):
    release_commands = ReleaseCommandSerializer(many=True)
    services = serializers.SerializerMethodField()
    tags = serializers.ListField(child=serializers.DictField(child=serializers.CharField()))

    class Meta(AppTemplateSerializer.Meta):
        fields = [*AppTemplateSerializer.Meta.fields, "icon_dark_mode", "release_commands", "services", "tags"]

    @extend_schema_field(AppTemplateServiceSerializer(many=True))
    def get_services(self, template) -> list[dict]:
        return [
            {"id": service["identifier"], "identifier": service["identifier"], "prefix": service["prefix"]}
            for service in template.services
        ]


class PlanGroupSerializer(serializers.ModelSerializer):
    uuid = IdField()

    class Meta:
        model = PlanGroup
        fields = ["uuid", "name"]


class PlanGroupDetailSerializer(PlanGroupSerializer):
    regions = serializers.SerializerMethodField(help_text="The regions applications of this plan group may use.")

    class Meta(PlanGroupSerializer.Meta):
        fields = [*PlanGroupSerializer.Meta.fields, "regions"]

    def get_regions(self, plan_group) -> list[str]:
        offered = list(plan_group.regions.all()) or Region.objects.all()
        return [encode_id(region.pk) for region in offered]


class LegacyApplicationSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    uuid = IdField(source="application_id")
    slug = serializers.CharField(source="application.slug", read_only=True)

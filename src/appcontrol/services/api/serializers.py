import re

from rest_framework import serializers

from appcontrol.applications.selectors import environments_visible
from appcontrol.core.fields import IdField, RelatedIdField

from .. import services
from ..models import Service, ServiceInstance
from ..selectors import services_available

PREFIX_RE = re.compile(r"^[A-Z][A-Z0-9_]{0,31}$")


class ServiceSerializer(serializers.ModelSerializer):
    uuid = IdField()

    class Meta:
        model = Service
        fields = ["uuid", "identifier", "name", "type", "description"]


class ServiceInstanceSerializer(serializers.ModelSerializer):
    uuid = IdField()
    environment = RelatedIdField(read_only=True)
    service = RelatedIdField(read_only=True)
    region = RelatedIdField(read_only=True, allow_null=True)
    errors = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = ServiceInstance
        fields = [
            "uuid", "environment", "service", "prefix", "type", "service_status", "region", "errors",
            "created_at", "started_at", "ended_at",
        ]  # fmt: skip
        read_only_fields = fields


class ServiceInstanceCreateSerializer(ServiceInstanceSerializer):
    environment = RelatedIdField(scope=environments_visible)
    service = RelatedIdField(scope=services_available)
    prefix = serializers.CharField(required=False, default="DEFAULT", max_length=32)
    region = serializers.CharField(
        required=False,
        allow_null=True,
        write_only=True,
        help_text="Accepted for compatibility; the app's region.",
    )

    class Meta(ServiceInstanceSerializer.Meta):
        read_only_fields = [
            "uuid",
            "type",
            "service_status",
            "errors",
            "created_at",
            "started_at",
            "ended_at",
        ]
        validators = []

    def validate_prefix(self, value):
        value = value.upper()
        if not PREFIX_RE.match(value):
            raise serializers.ValidationError("Use upper-case letters, digits and underscores, starting with a letter.")
        return value

    def validate(self, attrs):
        taken = ServiceInstance.objects.filter(
            environment=attrs["environment"], type=attrs["service"].type, prefix=attrs["prefix"]
        )
        if taken.exists():
            raise serializers.ValidationError(
                {"prefix": [f"The environment already has a {attrs['service'].type} with this prefix."]}
            )
        return attrs

    def create(self, validated_data):
        validated_data.pop("region", None)
        return services.service_instance_create(**validated_data)

from rest_framework import serializers

from appcontrol.core.fields import IdField

from ..models import Organisation, Role, User


class CurrentUserSerializer(serializers.ModelSerializer):
    uuid = IdField()

    class Meta:
        model = User
        fields = ["uuid", "email", "first_name", "last_name", "timezone", "is_api_only", "created_at"]
        read_only_fields = fields


class OrganisationSerializer(serializers.ModelSerializer):
    uuid = IdField()
    role = serializers.ChoiceField(
        choices=Role.choices, read_only=True, source="caller_role", help_text="Your role in it."
    )

    class Meta:
        model = Organisation
        fields = ["uuid", "slug", "name", "created_at", "role"]
        read_only_fields = fields

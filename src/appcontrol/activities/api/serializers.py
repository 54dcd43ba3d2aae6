from rest_framework import serializers

from appcontrol.core.fields import IdField

from ..models import ApplicationActivity


class ApplicationActivitySerializer(serializers.ModelSerializer):
    uuid = IdField()
    application = IdField(source="application_id", allow_null=True, help_text="Null for the organisation's own.")
    organisation = IdField(source="organisation_id")
    user = IdField(source="user_id", allow_null=True, help_text="Null when the product itself acted.")
    impersonated = serializers.SerializerMethodField(help_text="Always false: nobody acts as somebody else here.")
    user_is_removed = serializers.SerializerMethodField(help_text="The account is gone or deactivated.")
    token = serializers.CharField(
        source="token_prefix", help_text="The prefix of the access token used (empty without one)."
    )
    context = serializers.JSONField(help_text="The ids involved and the names they had; never a secret value.")

    class Meta:
        model = ApplicationActivity
        fields = [
            "uuid", "application", "organisation", "created_at", "type", "description", "context",
            "user", "user_name", "user_email", "user_is_removed", "impersonated", "token",
        ]  # fmt: skip
        read_only_fields = fields

    def get_impersonated(self, activity) -> bool:
        return False

    def get_user_is_removed(self, activity) -> bool:
        if activity.user_id is None:
            return activity.user_name != "appcontrol"
        return not activity.user.is_active

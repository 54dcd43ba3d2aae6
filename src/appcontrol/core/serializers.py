from rest_framework import serializers


class ApiRootSerializer(serializers.Serializer):
    # Key on the wire -> URL name of the collection. `serviceinstances` is the key the apps/v3
    # root has always had; its URL is `service-instances/`, the path divio-cli calls.
    URL_NAMES = {
        "applications": "api:application-list",
        "environments": "api:environment-list",
        "domains": "api:domain-list",
        "patches": "api:patch-list",
        "repositories": "api:repository-list",
        "serviceinstances": "api:service-instance-list",
        "deployments": "api:deployment-list",
        "builds": "api:build-list",
        "regions": "api:region-list",
        "services": "api:service-list",
        "environment-variables": "api:environment-variable-list",
        "backups": "api:backup-list",
        "service-instance-backups": "api:service-instance-backup-list",
        "backup-downloads": "api:backup-download-list",
        "backup-download-service-instances": "api:backup-download-service-instance-list",
        "backup-restores": "api:backup-restore-list",
        "backup-schedules": "api:backup-schedule-list",
    }

    def get_fields(self):
        return {key: serializers.URLField(read_only=True) for key in self.URL_NAMES}

    def to_representation(self, instance):
        return {key: instance[key] for key in self.URL_NAMES}

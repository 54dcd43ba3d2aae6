from django.utils import timezone

from appcontrol.core.events import publish
from appcontrol.core.jobs import JobRunner

from .engines import EngineError
from .models import ServiceInstance, ServiceStatus
from .services import service_instance_provision


class ProvisionRunner(JobRunner):
    name = "service-instance-provision"
    model = ServiceInstance

    def run(self, instance):
        try:
            service_instance_provision(instance=instance)
        except EngineError as error:
            self.record_failure(instance, str(error))
            return
        ServiceInstance.objects.filter(pk=instance.pk).update(ended_at=timezone.now())

    def record_failure(self, instance, message):
        instance.service_status = ServiceStatus.ERROR
        instance.errors = [message]
        instance.ended_at = timezone.now()
        instance.save(update_fields=["service_status", "errors", "ended_at"])
        publish(
            "service_instance.provisioned",
            instance_id=instance.pk,
            environment_id=instance.environment_id,
            success=False,
        )

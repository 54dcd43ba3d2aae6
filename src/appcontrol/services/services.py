"""Service-instance actions: create (provisioned in the background) and delete."""

from django.db import transaction

from appcontrol.applications.models import Environment, EnvironmentVariable
from appcontrol.core.events import publish
from appcontrol.core.exceptions import ActionError
from appcontrol.core.jobs import enqueue

from .engines import EngineError, engine_for
from .models import Service, ServiceInstance, ServiceStatus


class ServiceError(ActionError):
    pass


@transaction.atomic
def service_instance_create(*, environment: Environment, service: Service, prefix: str = "DEFAULT") -> ServiceInstance:
    instance = ServiceInstance.objects.create(
        environment=environment,
        service=service,
        prefix=prefix.upper(),
        type=service.type,
        region=environment.application.region,
    )
    enqueue("service-instance-provision", instance.pk)
    publish("service_instance.created", instance_id=instance.pk, environment_id=environment.pk)
    return instance


def service_instance_provision(*, instance: ServiceInstance) -> None:
    """Create the real resource and publish its credentials as environment variables."""
    ServiceInstance.objects.filter(pk=instance.pk).update(service_status=ServiceStatus.PROVISIONING)
    engine = engine_for(instance.service.engine)
    try:
        variables = engine.provision(instance)
    except Exception:
        # Whatever part of the resource exists must not outlive the failed attempt.
        try:
            engine.deprovision(instance)
        finally:
            instance.save(update_fields=["resource"])
        raise
    with transaction.atomic():
        for name, value in variables.items():
            EnvironmentVariable.objects.update_or_create(
                environment_id=instance.environment_id,
                name=name,
                defaults={"value": value, "is_sensitive": True, "service_instance": instance},
            )
        instance.service_status = ServiceStatus.ATTACHED
        instance.errors = []
        instance.save(update_fields=["resource", "service_status", "errors"])
        publish(
            "service_instance.provisioned",
            instance_id=instance.pk,
            environment_id=instance.environment_id,
            success=True,
        )


def service_instance_delete(*, instance: ServiceInstance) -> None:
    """Remove the resource (its data is gone for good) and the instance; its backups stay."""
    if instance.started_at is not None and instance.ended_at is None:
        raise ServiceError("The service instance is still being provisioned; try again when it is done.", status=409)
    try:
        engine_for(instance.service.engine).deprovision(instance)
    except EngineError as error:
        raise ServiceError(str(error)) from None
    environment_id = instance.environment_id
    instance_id = instance.pk
    instance.delete()
    publish("service_instance.deleted", instance_id=instance_id, environment_id=environment_id)


def service_instances_secure() -> tuple[int, list[tuple[ServiceInstance, str]]]:
    """Re-apply least privilege to every attached instance whose engine confines its resource; return how
    many were secured and which failed, with why."""
    secured, failed = 0, []
    instances = ServiceInstance.objects.filter(service_status=ServiceStatus.ATTACHED).select_related("service")
    for instance in instances:
        engine = engine_for(instance.service.engine)
        if not hasattr(engine, "secure"):
            continue
        try:
            engine.secure(instance)
        except EngineError as error:
            failed.append((instance, str(error)))
        else:
            secured += 1
    return secured, failed

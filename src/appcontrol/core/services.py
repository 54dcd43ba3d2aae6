from django.db import models


def model_update(*, instance: models.Model, changes: dict) -> models.Model:
    """Set the given fields, validate the model and save only those fields."""
    for field, value in changes.items():
        setattr(instance, field, value)
    if changes:
        instance.full_clean(exclude=[f.name for f in instance._meta.fields if f.name not in changes])
        instance.save(update_fields=list(changes))
    return instance

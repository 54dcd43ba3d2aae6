"""Rows that carry their organisation's id, so that who may see them is a condition on their own table.

An environment belongs to its application's organisation, a backup and its parts to their environment's. Asked
through those relations, every list of the busiest kinds joined two or three tables for visibility alone, on
every request. These rows keep the organisation's id in a column of their own, copied from the object they
belong to when they are created and never written afterwards: an application's organisation and a row's
parent are fixed once created (the API offers no way to change them, the admin shows them read-only).
"""

from django.db import models


class OrganisationOwnedQuerySet(models.QuerySet):
    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        _fill_organisations(self.model, [obj for obj in objs if obj._state.adding])
        return super().bulk_create(objs, *args, **kwargs)


class OrganisationOwned(models.Model):
    """A row whose `organisation` is that of the object its foreign key `organisation_from` names."""

    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+", editable=False
    )
    organisation_from: str

    objects = OrganisationOwnedQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self._state.adding:
            _fill_organisations(type(self), [self])
        super().save(*args, **kwargs)


def _fill_organisations(model, objs) -> None:
    """Sets each new row's organisation from its parent's: the cached parent's where it is loaded, else one
    query for all of them. A row given an organisation other than its parent's is refused."""
    parent_field = model._meta.get_field(model.organisation_from)
    organisation_of = {
        obj.pk: obj.organisation_id
        for obj in (parent_field.get_cached_value(row) for row in objs if parent_field.is_cached(row))
        if obj is not None
    }
    missing = {getattr(row, parent_field.attname) for row in objs} - organisation_of.keys() - {None}
    if missing:
        parents = parent_field.related_model._base_manager.filter(pk__in=missing)
        organisation_of.update(parents.values_list("pk", "organisation_id"))
    for row in objs:
        expected = organisation_of.get(getattr(row, parent_field.attname))
        if row.organisation_id is None:
            row.organisation_id = expected
        elif row.organisation_id != expected:
            raise ValueError(f"{model.__name__} {row.pk}: its organisation must be its {parent_field.name}'s")

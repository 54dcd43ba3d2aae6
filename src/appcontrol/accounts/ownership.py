"""Rows that carry their organisation's id, so that who may see them is a condition on their own table.

An environment belongs to its application's organisation, a backup and its parts to their environment's. Asked
through those relations, every list of the busiest kinds joined two or three tables for visibility alone, on
every request. These rows keep the organisation's id in a column of their own, copied from the object they
belong to when they are created and never written afterwards: an application's organisation and a row's
parent are fixed once created. The API offers no way to change them, the admin shows them read-only, and
here saving a row moved to another parent, or an update or upsert that would move rows, is refused.
"""

from django.db import models


class OrganisationOwnedQuerySet(models.QuerySet):
    def bulk_create(self, objs, *args, **kwargs):
        _refuse_moving(self.model, kwargs.get("update_fields") or ())
        objs = list(objs)
        _fill_organisations(self.model, [obj for obj in objs if obj._state.adding])
        return super().bulk_create(objs, *args, **kwargs)

    def update(self, **kwargs):
        _refuse_moving(self.model, kwargs)
        return super().update(**kwargs)


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
        else:
            loaded = self.__dict__.get("_parent_id_as_loaded")
            if loaded is not None and self.__dict__.get(_parent_field(type(self)).attname) != loaded:
                _refuse_moving(type(self), [self.organisation_from])
        super().save(*args, **kwargs)

    @classmethod
    def from_db(cls, db, field_names, values, **kwargs):
        row = super().from_db(db, field_names, values, **kwargs)
        row._parent_id_as_loaded = row.__dict__.get(_parent_field(cls).attname)  # None if deferred
        return row


def _parent_field(model):
    return model._meta.get_field(model.organisation_from)


def _refuse_moving(model, field_names) -> None:
    parent = _parent_field(model)
    if {parent.name, parent.attname, "organisation", "organisation_id"}.intersection(field_names):
        raise ValueError(f"{model.__name__}: its {parent.name} and organisation are fixed once created")


def _fill_organisations(model, objs) -> None:
    """Sets each new row's organisation from its parent's: the cached parent's where it is loaded, else one
    query for all of them. A row given an organisation other than its parent's is refused."""
    parent_field = _parent_field(model)
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

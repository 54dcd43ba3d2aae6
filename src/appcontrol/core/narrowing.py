"""`narrowed(queryset, [(lookup, value), ...])`: the same query as chaining `queryset.filter(lookup=value)` for
each condition, without resolving each lookup's path anew.

`filter()` walks a lookup's path through the model's fields (names, joins, then the joins it can trim) on
every call: 45–75 µs for `slug=`, `environment_id=` or `organisation__in=`, against 15–30 µs with the path
known, and every list request filters by its caller's organisations and by its query string. The path of a
lookup on a column of the model's own table (`slug`, `environment_id`, `organisation__in` once the join to
the organisation is trimmed) is worked out once per model and lookup; such conditions are then added to the
query as `filter()` would add them. Any other condition (one that needs a join, a value that is an expression
or None, any condition of an annotated query) goes through `filter()` itself, in its place.
"""

import datetime
import decimal
import uuid
from functools import cache

from django.db.models.manager import BaseManager
from django.db.models.sql import Query
from django.db.models.sql.where import AND

_PLAIN = (str, int, float, bool, uuid.UUID, decimal.Decimal, datetime.date, datetime.time, datetime.timedelta)


def narrowed(queryset, conditions):
    """`queryset` (or a manager's) with each `(lookup, value)` of `conditions` applied in order, as chained
    `filter()` calls."""
    if isinstance(queryset, BaseManager):
        # Not the manager's queryset itself: a related manager's may be its instance's prefetched rows.
        queryset = queryset.all()
    owned = False  # whether `queryset` is a clone of ours that may be changed in place
    for lookup, value in conditions:
        recipe = _recipe(queryset.model, lookup) if _plain(value) else None
        if recipe is None or not _builds_alike(queryset):
            queryset, owned = queryset.filter(**{lookup: value}), True
            continue
        if not owned:
            queryset, owned = queryset._chain(), True
        target, field, lookups = recipe
        column = queryset.query._get_col(target, field, queryset.query.get_initial_alias())
        queryset.query.where.add(queryset.query.build_lookup(lookups, column, value), AND)
    return queryset


def _builds_alike(queryset) -> bool:
    """Whether a condition added here is what `filter()` would add: not on a slice or a union (which
    `filter()` refuses), nor where a name could be an annotation's, nor where a related manager's join is
    still to be reused by the next filter."""
    query = queryset.query
    return not (
        query.is_sliced or query.combinator or query.annotations or query.filter_is_sticky or queryset._sticky_filter
    )


def _plain(value) -> bool:
    if isinstance(value, (list, tuple)):
        return all(isinstance(item, _PLAIN) for item in value)
    return isinstance(value, _PLAIN)


@cache
def _recipe(model, lookup: str):
    """(the column's field, the field the lookup compares, the lookup's names) for a lookup on a column of
    the model's own table; None for one that needs a join (or is not a field's)."""
    query = Query(model)
    try:
        lookups, parts, reffed_expression = query.solve_lookup_type(lookup)
        if reffed_expression or lookups[-1:] == ["isnull"]:
            return None
        alias = query.get_initial_alias()
        joined = query.setup_joins(parts, model._meta, alias, allow_many=True)
        targets, final_alias, _ = query.trim_joins(joined.targets, joined.joins, joined.path)
    except Exception:  # noqa: BLE001 - whatever filter() makes of it, filter() will say
        return None
    if (
        final_alias != alias
        or len(targets) != 1
        or (joined.final_field.is_relation and joined.final_field.many_to_many)
    ):
        return None
    return targets[0], joined.final_field, tuple(lookups)

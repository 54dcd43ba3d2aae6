"""The lookup every API request makes — its token, the token's account and organisation, the lowest rate
limit among the account's organisations and the ids of those organisations — as one query whose SQL is
built once.

Building SQL is most of what the ORM costs here: about 1 ms a request for this query's joins and subquery,
against a few hundredths of a millisecond to run it. So the statement is written out once per process, and
its row becomes model instances through the same converters the ORM applies to each column.
"""

import uuid
from dataclasses import dataclass
from functools import cache

from django.db import connection
from django.db.models import Field, Model

from .models import AccessToken, Membership, Organisation, User


@dataclass(frozen=True)
class _Part:
    model: type[Model]
    fields: list[Field]
    converters: list[tuple]  # per field: (converters, the column expression they expect)


@dataclass(frozen=True)
class _Plan:
    sql: str
    parts: tuple[_Part, ...]
    lists_organisations: bool


def token_by_prefix(prefix: str) -> AccessToken | None:
    """The token with this prefix, with `.user`, `.organisation`, `.member_rate_limit` and
    `.member_organisation_ids` (None where the database cannot list them in one column) set; None if none."""
    plan = _plan(connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(plan.sql, [prefix])
        row = cursor.fetchone()
    if row is None:
        return None
    values = iter(row)
    token, user, organisation = (_instance(part, [next(values) for _ in part.fields]) for part in plan.parts)
    token.user = user
    token.organisation = organisation
    token.member_rate_limit = next(values)
    if plan.lists_organisations:
        listed = next(values)
        token.member_organisation_ids = [uuid.UUID(text) for text in listed.split(",")] if listed else []
    else:
        token.member_organisation_ids = None
    return token


def _instance(part: _Part, raw: list):
    values = []
    for value, (converters, column) in zip(raw, part.converters, strict=True):
        for convert in converters:
            value = convert(value, column, connection)
        values.append(value)
    if values[0] is None:  # the organisation of a token that has none (outer join)
        return None
    return part.model.from_db(connection.alias, [field.attname for field in part.fields], values)


@cache
def _plan(vendor: str) -> _Plan:
    quote = connection.ops.quote_name
    parts, columns = [], []
    for model, alias in ((AccessToken, "t"), (User, "u"), (Organisation, "o")):
        fields = list(model._meta.concrete_fields)
        converters = []
        for field in fields:
            column = field.get_col(alias)
            converters.append((connection.ops.get_db_converters(column) + column.get_db_converters(connection), column))
            columns.append(f"{alias}.{quote(field.column)}")
        parts.append(_Part(model, fields, converters))

    def column(model, name):
        return quote(model._meta.get_field(name).column)

    def table(model):
        return quote(model._meta.db_table)

    rate_limit, org_pk = column(Organisation, "rate_limit"), column(Organisation, "uuid")
    # Every name below comes from the models, quoted; the prefix is the statement's only parameter.
    lowest_rate_limit = (
        f"SELECT MIN(o2.{rate_limit}) FROM {table(Membership)} m"  # noqa: S608
        f" JOIN {table(Organisation)} o2 ON o2.{org_pk} = m.{column(Membership, 'organisation')}"
        f" WHERE m.{column(Membership, 'user')} = t.{column(AccessToken, 'user')} AND o2.{rate_limit} > 0"
    )
    membership = f"{table(Membership)} m3 WHERE m3.{column(Membership, 'user')} = t.{column(AccessToken, 'user')}"
    organisation_id = f"m3.{column(Membership, 'organisation')}"
    # The organisations the account belongs to, as one text column: visibility then needs no subquery.
    listed = {
        "postgresql": f", (SELECT string_agg({organisation_id}::text, ',') FROM {membership})",  # noqa: S608
        "sqlite": f", (SELECT group_concat({organisation_id}, ',') FROM {membership})",  # noqa: S608
    }.get(vendor, "")
    sql = (
        f"SELECT {', '.join(columns)}, ({lowest_rate_limit}){listed}"  # noqa: S608
        f" FROM {table(AccessToken)} t"
        f" JOIN {table(User)} u ON u.{column(User, 'uuid')} = t.{column(AccessToken, 'user')}"
        f" LEFT JOIN {table(Organisation)} o ON o.{org_pk} = t.{column(AccessToken, 'organisation')}"
        f" WHERE t.{column(AccessToken, 'prefix')} = %s"
    )
    return _Plan(sql, tuple(parts), lists_organisations=bool(listed))

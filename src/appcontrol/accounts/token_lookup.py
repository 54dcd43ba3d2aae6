"""The lookup every API request makes — its token, the token's account and organisation, the lowest rate
limit among the account's organisations and the ids of those organisations — as one query whose SQL is
built once.

Building SQL is most of what the ORM costs here: about 1 ms a request for this query's joins and subquery,
against a few hundredths of a millisecond to run it. So the statement is written out once per process, and
its row becomes model instances through the same converters the ORM applies to each column.

On PostgreSQL the lookup also reads the token's *fingerprint*: which version of each row the lookup read
(the token's, the account's, the token's organisation's, each membership of the account and its
organisation's). `caller_fingerprint_sql()` reads it again by itself, so a caller remembered between
requests (`caller_cache`) can be checked against the database.
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

    @property
    def attnames(self) -> list[str]:
        return [field.attname for field in self.fields]


@dataclass(frozen=True)
class _Plan:
    sql: str
    parts: tuple[_Part, ...]
    lists_organisations: bool
    fingerprint_sql: str | None  # SELECT the fingerprint of the token whose prefix is its parameter


@dataclass(frozen=True)
class LookedUp:
    """What the lookup read, converted, from which `caller()` makes new model instances each time."""

    values: tuple[list | None, ...]  # per part (token, account, organisation or None)
    member_rate_limit: int | None
    member_organisation_ids: tuple[uuid.UUID, ...] | None
    fingerprint: str | None

    def caller(self) -> AccessToken:
        """The token with `.user`, `.organisation`, `.member_rate_limit` and `.member_organisation_ids` (None
        where the database cannot list them in one column) set."""
        token, user, organisation = (
            None if values is None else part.model.from_db(connection.alias, part.attnames, list(values))
            for part, values in zip(_plan(connection.vendor).parts, self.values, strict=True)
        )
        token.user = user
        token.organisation = organisation
        token.member_rate_limit = self.member_rate_limit
        listed = self.member_organisation_ids
        token.member_organisation_ids = None if listed is None else list(listed)
        return token


def looked_up(prefix: str) -> LookedUp | None:
    """What the lookup reads of the token with this prefix; None if none."""
    plan = _plan(connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(plan.sql, [prefix])
        row = cursor.fetchone()
    if row is None:
        return None
    values = iter(row)
    parts = tuple(_converted(part, [next(values) for _ in part.fields]) for part in plan.parts)
    rate_limit = next(values)
    listed = next(values) if plan.lists_organisations else None
    organisation_ids = None
    if plan.lists_organisations:
        organisation_ids = tuple(uuid.UUID(text) for text in listed.split(",")) if listed else ()
    fingerprint = next(values) if plan.fingerprint_sql else None
    return LookedUp(parts, rate_limit, organisation_ids, fingerprint)


def caller_fingerprint_sql() -> str | None:
    """`SELECT <fingerprint>` of the token whose prefix is the statement's one parameter (no row if none);
    None where the database keeps no row versions to read it from (SQLite)."""
    return _plan(connection.vendor).fingerprint_sql


def _converted(part: _Part, raw: list) -> list | None:
    values = []
    for value, (converters, column) in zip(raw, part.converters, strict=True):
        for convert in converters:
            value = convert(value, column, connection)
        values.append(value)
    if values[0] is None:  # the organisation of a token that has none (outer join)
        return None
    return values


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
    tables = (
        f" FROM {table(AccessToken)} t"
        f" JOIN {table(User)} u ON u.{column(User, 'uuid')} = t.{column(AccessToken, 'user')}"
        f" LEFT JOIN {table(Organisation)} o ON o.{org_pk} = t.{column(AccessToken, 'organisation')}"
        f" WHERE t.{column(AccessToken, 'prefix')} = %s"
    )
    fingerprint = None
    if vendor == "postgresql":
        # PostgreSQL writes every change to a row as a new version of it, stamped with the transaction that
        # wrote it (`xmin`) at a place of its own (`ctid`; within one transaction only the place differs).
        # So the versions of the token's row, its account's, its organisation's, and each membership of the
        # account with its organisation's (their rate limits) say whether anything read here has changed,
        # at a fraction of comparing the rows themselves.
        def version(alias):
            return f"{alias}.xmin::text || {alias}.ctid::text"

        memberships = (
            f"SELECT string_agg({version('m4')} || ':' || {version('o4')}, ','"  # noqa: S608
            f" ORDER BY m4.{quote(Membership._meta.pk.column)})"
            f" FROM {table(Membership)} m4 JOIN {table(Organisation)} o4"
            f" ON o4.{org_pk} = m4.{column(Membership, 'organisation')}"
            f" WHERE m4.{column(Membership, 'user')} = t.{column(AccessToken, 'user')}"
        )
        fingerprint = f"concat_ws('/', {version('t')}, {version('u')}, {version('o')}, ({memberships}))"
    select = f"SELECT {', '.join(columns)}, ({lowest_rate_limit}){listed}" + (f", {fingerprint}" if fingerprint else "")
    return _Plan(
        select + tables,
        tuple(parts),
        lists_organisations=bool(listed),
        fingerprint_sql=f"SELECT {fingerprint}{tables}" if fingerprint else None,  # noqa: S608
    )

"""SELECT statements written once per shape of query, then reused with each request's values.

Turning a query into SQL is most of what the ORM costs on a list request (its columns, joins, order and
limits: about 1 ms, against hundredths of a millisecond for the database to run it), and every request of
one list builds the same statement with other values. So a plain model query (no annotations, extra,
grouping, distinct, combination, locking, values(), filtered relations, or aggregates or windows in its
filters), or the count of one, is keyed by everything its statement is made of but the values: its model,
joins and their use counts, columns (defer/only, select_related), order, limits, and its WHERE clause
compiled on its own (the cheap part, which also yields the values). The first query of a shape is compiled
in full and kept only if its parameters are exactly its WHERE clause's, so that a later query of that shape
runs the kept statement with its own WHERE clause's parameters. Everything else is compiled as Django
always does.

A page of such a query can also count its whole list in the same statement (`counted_along`), each row
can read the ids of its rows in a reverse relation along (`ids_along`), and the statement can read the
fingerprint of the request's caller along (`verified_along`, `core.verification`): one statement, where a
page, its count, a prefetch of those ids and the caller's token were four, each built for every request.

The database backends in `appcontrol.core.backends` (Django's own, with this compiler) use it.
"""

import json
import threading

from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db import connections
from django.db.models import Count, F, Field, Func, IntegerField, OuterRef, Prefetch, Subquery, TextField
from django.db.models.expressions import RawSQL
from django.db.models.sql import compiler as django_compiler
from django.db.models.sql.constants import GET_ITERATOR_CHUNK_SIZE

from .verification import CALLER_FINGERPRINT

MAX_SHAPES = 2048  # per process; a shape is a few kB (its SQL and column list)
_COUNT_ALL = Count("*").identity  # what QuerySet.count() asks for


class _Shapes:
    def __init__(self):
        self._entries: dict = {}
        self._lock = threading.Lock()

    def get(self, key):
        return self._entries.get(key)

    def put(self, key, entry) -> None:
        with self._lock:
            while len(self._entries) >= MAX_SHAPES:  # oldest first: dicts keep insertion order
                del self._entries[next(iter(self._entries))]
            self._entries[key] = entry

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


shapes = _Shapes()
_UNCACHEABLE = object()
ROWS_COUNTED = "rows_counted"


def counted_along(queryset):
    """The queryset, its statement also counting the rows its filters match (limits aside) into each row's
    `rows_counted` attribute. Only a kept shape is counted along: rows without the attribute (or no rows) mean
    the caller counts as usual."""
    counting = queryset._chain()
    counting.query.count_along = True  # copied with the query, through slicing and filtering
    return counting


def verified_along(queryset, verification):
    """The queryset, its statement also reading the fingerprint of the request's caller, which settles the
    `Verification` as soon as its first row is read (before anything prefetched for the rows). Only model
    rows read it; with no rows (or none read), the verification is still owed."""
    verifying = queryset._chain()
    verifying.query.verifies_caller = verification  # copied with the query
    return verifying


def ids_along(queryset, relation: str):
    """The queryset, each row reading the primary keys of its rows in `relation` (a reverse foreign key), in
    that model's order, as a list in `ids_attribute(relation)` read by the row's own statement (PostgreSQL,
    SQLite); on other databases prefetched in one more query."""
    if connections[queryset.db].vendor not in _IDS_OF:
        return _ids_prefetched(queryset, relation)
    along = queryset._chain()
    along.query.ids_along = (*getattr(along.query, "ids_along", ()), relation)
    return along


def ids_prefetched_instead(queryset):
    """The queryset with the ids it would read along prefetched in one query each instead: for a page after
    an OFFSET, whose skipped rows PostgreSQL would read the ids of too (a subquery in the selected columns is
    computed for each row the OFFSET passes over: half a million of them for a middle page of a million)."""
    relations = getattr(queryset.query, "ids_along", ())
    if not relations:
        return queryset
    queryset = queryset._chain()
    queryset.query.ids_along = ()
    for relation in relations:
        queryset = _ids_prefetched(queryset, relation)
    return queryset


def _ids_prefetched(queryset, relation: str):
    related = queryset.model._meta.get_field(relation)
    model = related.related_model
    only = model._default_manager.only(model._meta.pk.name, related.field.name)
    return queryset.prefetch_related(Prefetch(relation, queryset=only))


def ids_attribute(relation: str) -> str:
    return f"{relation}_ids"


def _ids_of(model, relation: str, vendor: str):
    related = model._meta.get_field(relation)
    rows = related.related_model._default_manager.filter(**{related.field.name: OuterRef("pk")})
    return _IDS_OF[vendor](rows, related.related_model._meta.ordering)


def _array_of_ids(rows, ordering):
    from django.contrib.postgres.expressions import ArraySubquery  # PostgreSQL's own: imported where used

    return ArraySubquery(rows.order_by(*ordering).values("pk"))


def _json_of_ids(rows, ordering):
    """SQLite before 3.44 cannot order an aggregate: each row's sort key and id, as a JSON list, put in order
    by `_OrderedIds` (the same values SQLite would compare, compared alike)."""
    keys = [F(name.lstrip("-")) for name in ordering]
    pairs = Func(*keys, F("pk"), function="json_array", output_field=TextField())
    # An aggregate Django does not know for one: no GROUP BY, so a row without related rows reads `[]`.
    listed = rows.order_by().annotate(ids_along=Func(pairs, function="json_group_array", output_field=TextField()))
    return Subquery(listed.values("ids_along"), output_field=_OrderedIds(rows.model, ordering))


class _OrderedIds(Field):
    """The ids of a JSON list of `[sort key..., id]`, in `ordering` (NULL first, as SQLite sorts ascending)."""

    def __init__(self, model, ordering):
        super().__init__()
        self.id_field, self.ordering = model._meta.pk, ordering

    def from_db_value(self, value, expression, connection):
        rows = json.loads(value) if value else []
        for position in reversed(range(len(self.ordering))):  # a stable sort a key at a time, the last first
            descending = self.ordering[position].startswith("-")
            rows.sort(key=lambda row, at=position: (row[at] is not None, row[at]), reverse=descending)
        return [self.id_field.to_python(row[-1]) for row in rows]


_IDS_OF = {"postgresql": _array_of_ids, "sqlite": _json_of_ids}


class SQLCompiler(django_compiler.SQLCompiler):
    def as_sql(self, with_limits=True, with_col_aliases=False):
        # A union, its parts (compiled with column aliases) and subqueries keep their plain columns: the parts
        # of a union must select alike, and a subquery's columns are its outer query's business.
        self.reads_along = not (with_col_aliases or self.query.subquery or self.query.combinator)
        shape = self._shape(with_limits, with_col_aliases)
        if shape is not None:
            key, where_params = shape
            entry = shapes.get(key)
            if entry is None:
                entry = self._kept(with_limits, with_col_aliases, where_params)
                shapes.put(key, entry)
            if entry is not _UNCACHEABLE:
                sql, *columns, counts = entry
                self._use_columns(columns)
                return sql, self._parameters(where_params, counts)
        if not self._relations_along() and not self._verifies():
            return super().as_sql(with_limits, with_col_aliases)
        # Not kept, but its rows still read what they were asked for (their count is left to the caller).
        compiler = self._along()
        sql, params = django_compiler.SQLCompiler.as_sql(compiler, with_limits, with_col_aliases)
        self._use_columns(_columns_of(compiler))
        return sql, params

    def _kept(self, with_limits, with_col_aliases, where_params):
        """What a shape keeps (its statement, columns, and how many times its WHERE's values appear in the
        statement's parameters), or _UNCACHEABLE if its parameters are not just its WHERE clause's."""
        count = None
        if self._counts_along():
            count = self._count_statement()
            if list(count[1]) != list(where_params):
                return _UNCACHEABLE
        compiler = self._along(count)
        sql, params = django_compiler.SQLCompiler.as_sql(compiler, with_limits, with_col_aliases)
        counts = count is not None
        if tuple(params) != self._parameters(where_params, counts):
            return _UNCACHEABLE
        return sql, *_columns_of(compiler), counts

    def _parameters(self, where_params, counts: bool) -> tuple:
        """A kept statement's parameters: those of the count read along (its WHERE clause's), the caller's
        token prefix if its fingerprint is read along, then the WHERE clause's."""
        verifies = self._verifies()
        return (*(where_params if counts else ()), *((verifies.prefix,) if verifies else ()), *where_params)

    def _along(self, count=None):
        """A compiler of this query with the columns read along after the rows' own (so those keep their
        places): the ids of each asked relation, the list's count (SQL and parameters) if given, then the
        caller's fingerprint if asked."""
        relations, verifies = self._relations_along(), self._verifies()
        if count is None and not relations and not verifies:
            return self
        query = self.query.clone()
        query.count_along, query.ids_along, query.verifies_caller = False, (), None
        for relation in relations:
            query.add_annotation(_ids_of(query.model, relation, self.connection.vendor), ids_attribute(relation))
        if count is not None:
            # Django's own compile of the count, its values parameters.
            query.add_annotation(RawSQL(*count, output_field=IntegerField()), ROWS_COUNTED)  # noqa: S611
        if verifies:
            # A kept shape keeps this expression (with the first request's prefix) among its columns, for how
            # rows map to them only: each request's statement takes its own prefix from `_parameters`.
            fingerprint = RawSQL(f"({verifies.sql})", [verifies.prefix], output_field=TextField())  # noqa: S611
            query.add_annotation(fingerprint, CALLER_FINGERPRINT)
        return django_compiler.SQLCompiler(query, self.connection, self.using, self.elide_empty)

    def _use_columns(self, columns):
        self.select, self.klass_info, self.annotation_col_map, self.has_extra_select = columns
        self.col_count = len(self.select)

    def _counts_along(self) -> bool:
        # Model rows only: a count, values() or exists() selects other columns.
        return self.reads_along and self.query.default_cols and getattr(self.query, "count_along", False)

    def _verifies(self):
        """The `Verification` this query's rows read the caller's fingerprint along for, if any."""
        verifies = getattr(self.query, "verifies_caller", None)
        return verifies if getattr(self, "reads_along", False) and self.query.default_cols else None

    def results_iter(self, results=None, tuple_expected=False, chunked_fetch=False, chunk_size=GET_ITERATOR_CHUNK_SIZE):
        rows = super().results_iter(results, tuple_expected, chunked_fetch, chunk_size)
        verifies = self._verifies()
        if verifies is None or CALLER_FINGERPRINT not in self.annotation_col_map:
            return rows
        return _settling(rows, self.annotation_col_map[CALLER_FINGERPRINT], verifies)

    def _relations_along(self) -> tuple:
        return getattr(self.query, "ids_along", ()) if self.reads_along and self.query.default_cols else ()

    def _count_statement(self):
        """`SELECT COUNT(*)` over this query's rows without its limits, as QuerySet.count() would write it."""
        query = self.query.clone()
        query.count_along, query.verifies_caller = False, None
        count = Count("*").resolve_expression(query, allow_joins=True, reuse=None, summarize=True)
        query.select, query.selected, query.default_cols, query.extra = (), None, False, {}
        query.annotations = {"__count": count}
        query.set_annotation_mask({"__count"})
        query.clear_ordering(force=True)
        query.clear_limits()
        query.select_related = False
        return query.get_compiler(connection=self.connection, elide_empty=True).as_sql()

    def _shape(self, with_limits, with_col_aliases):
        """(key, the WHERE clause's parameters) for a plain model query, else None."""
        query = self.query
        counting = query.annotations.keys() == {"__count"} and query.annotations["__count"].identity == _COUNT_ALL
        if (
            not (query.default_cols or counting)
            or query.select
            or query.selected is not None
            or (query.annotations and not counting)
            or query.extra
            or query.extra_tables
            or query.extra_order_by
            or query.group_by is not None
            or query.distinct
            or query.combinator
            or query.select_for_update
            or query.subquery
            or query.explain_info
            or query._filtered_relations  # their joins are made while compiling, with conditions of their own
            or query.where.contains_aggregate  # moved to HAVING, or a window's to QUALIFY: params reorder
            or query.where.contains_over_clause
            or query.values_select
            or not all(isinstance(item, str) for item in query.order_by)
        ):
            return None
        try:
            where_sql, where_params = self.compile(query.where)
        except FullResultSet:
            where_sql, where_params = "", []
        except EmptyResultSet:
            return None  # compiled in full: Django knows what an empty WHERE means for this query
        key = (
            self.connection.alias,
            self.connection.vendor,
            self.elide_empty,
            with_col_aliases,
            query.model,
            counting,
            self._counts_along(),
            self._relations_along(),
            self._verifies() and self._verifies().sql,  # the statement, not the token's prefix (a parameter)
            tuple(
                (alias, join.identity, getattr(join, "join_type", None), getattr(join, "nullable", None))
                for alias, join in query.alias_map.items()
            ),
            tuple(query.alias_refcount.items()),
            _frozen(query.select_related),
            query.max_depth,
            query.deferred_loading[0] and (frozenset(query.deferred_loading[0]), query.deferred_loading[1]),
            tuple(query.order_by),
            query.default_ordering,
            query.standard_ordering,
            (query.low_mark, query.high_mark) if with_limits else None,
            where_sql,
        )
        return key, where_params


def _settling(rows, column: int, verification):
    """The rows, the verification settled by the first one's fingerprint before it is handed on."""
    for number, row in enumerate(rows):
        if number == 0:
            verification.settle(row[column])
        yield row


def _columns_of(compiler):
    return compiler.select, compiler.klass_info, compiler.annotation_col_map, compiler.has_extra_select


def _frozen(select_related):
    if isinstance(select_related, dict):
        return tuple(sorted((name, _frozen(nested)) for name, nested in select_related.items()))
    return select_related

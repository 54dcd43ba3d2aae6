"""Pages of every list: `{"count", "next", "previous", "results"}`, where following `next` costs the same on
every page, however deep.

`next` and `previous` carry a cursor: the sort key of the last (or first) row shown, so the next page is
"the rows after this key" (a range read on the list's index) instead of "skip N rows" (a walk over every
row before the page). The list order always ends with the primary key, so the key is unique: rows that
share a sort value are neither repeated nor skipped, and rows inserted while a client pages never make it
see a row twice or miss one that existed when it started. The cursor is signed (a tampered or malformed one
is 400) and carries the filters' `count` as it was on the first page, so cursor pages run no count query.

`?page=N` keeps working for clients that build page URLs themselves (it skips rows, and counts); its `next`
and `previous` are cursors too. A numbered page counts its list in its own statement (one round trip), and
uses the count only when the page is not the whole list.
"""

import base64
import binascii
import json
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.db.models import Q, QuerySet
from django.utils.crypto import constant_time_compare, salted_hmac
from rest_framework import pagination
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from .sql_compiler import ROWS_COUNTED, counted_along, ids_prefetched_instead, verified_along
from .verification import verification_of

_SALT = "appcontrol.core.pagination.cursor"


class Pagination(pagination.PageNumberPagination):
    page_size = settings.APPCONTROL_PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = settings.APPCONTROL_MAX_PAGE_SIZE
    cursor_query_param = "cursor"

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.by_cursor = isinstance(queryset, QuerySet)
        if not self.by_cursor:  # a list built in Python: numbered pages only
            return super().paginate_queryset(queryset, request, view)
        size = self.get_page_size(request)
        ordering = _ordering_of(queryset)
        queryset = queryset.order_by(*(("-" if desc else "") + name for name, desc in ordering))
        verification = verification_of(request)
        if verification is not None:  # the caller was remembered: the page's statement checks it along
            queryset = verified_along(queryset, verification)
        raw_cursor = request.query_params.get(self.cursor_query_param)
        if raw_cursor is not None:
            rows, self.count, has_previous, has_next = self._cursor_page(queryset, ordering, size, raw_cursor)
        else:
            rows, self.count, has_previous, has_next = self._numbered_page(queryset, size)
        self.next_link = self._link(rows[-1], ordering, "after") if has_next and rows else None
        if has_previous and rows:
            self.previous_link = self._link(rows[0], ordering, "before")
        else:
            # Nothing is left after the cursor (its rows were deleted): lead back to the first page.
            self.previous_link = self._url_without_paging() if has_previous else None
        return rows

    def get_paginated_response(self, data):
        if not self.by_cursor:
            return super().get_paginated_response(data)
        return Response({"count": self.count, "next": self.next_link, "previous": self.previous_link, "results": data})

    def get_next_link(self):
        return self.next_link if self.by_cursor else super().get_next_link()

    def get_previous_link(self):
        return self.previous_link if self.by_cursor else super().get_previous_link()

    def get_schema_operation_parameters(self, view):
        return [
            *super().get_schema_operation_parameters(view),
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "Where a page starts: given in `next` and `previous` links, never built by hand.",
                "schema": {"type": "string"},
            },
        ]

    # -- pages

    def _numbered_page(self, queryset, size):
        raw = self.request.query_params.get(self.page_query_param, "1")
        try:
            number = int(raw)
        except ValueError:
            raise NotFound("Invalid page.") from None
        if number < 1:
            raise NotFound("Invalid page.")
        offset = (number - 1) * size
        if offset:
            queryset = ids_prefetched_instead(queryset)
        rows = list(counted_along(queryset)[offset : offset + size + 1])
        if number > 1 and not rows:
            raise NotFound("Invalid page.")  # past the end of the list
        has_next = len(rows) > size
        rows = rows[:size]
        if number == 1 and not has_next:
            count = len(rows)  # the whole list is on this page
        elif hasattr(rows[0], ROWS_COUNTED):
            count = getattr(rows[0], ROWS_COUNTED)  # counted by the page's own statement
        else:
            count = queryset.count()
        return rows, count, number > 1, has_next

    def _cursor_page(self, queryset, ordering, size, raw_cursor):
        direction, values, count = self._decoded(raw_cursor, ordering)
        if direction == "after":
            rows = list(queryset.filter(_beyond(ordering, values, after=True))[: size + 1])
            return rows[:size], count, True, len(rows) > size
        backwards = queryset.reverse().filter(_beyond(ordering, values, after=False))
        rows = list(backwards[: size + 1])
        has_previous = len(rows) > size
        return list(reversed(rows[:size])), count, has_previous, True

    # -- cursors

    def _link(self, row, ordering, direction):
        # No list orders by a nullable field (tests/core/test_pagination.py): every value has a place in a range.
        values = [_json_value(_value_of(row, name)) for name, _ in ordering]
        return self._url_with_cursor(_signed({"d": direction, "v": values, "c": self.count}, self._scope(ordering)))

    def _decoded(self, raw_cursor, ordering):
        # Signed for this list and its order: a cursor edited by hand, or taken from another list, is refused.
        try:
            payload = _unsigned(raw_cursor, self._scope(ordering))
        except signing.BadSignature:
            raise ValidationError(
                {self.cursor_query_param: ["Invalid cursor: follow `next` and `previous` as they are given."]}
            ) from None
        return payload["d"], payload["v"], payload["c"]

    def _scope(self, ordering) -> str:
        path = self.request.path.rstrip("/")
        return f"{_SALT}:{path}:{','.join(('-' if desc else '') + name for name, desc in ordering)}"

    def _url_with_cursor(self, cursor: str | None) -> str:
        """This request's URL without its page number, and with `cursor` (or none)."""
        query = dict(self.request.query_params.lists())
        query.pop(self.page_query_param, None)
        query.pop(self.cursor_query_param, None)
        if cursor is not None:
            query[self.cursor_query_param] = [cursor]
        if not hasattr(self, "_base_url"):  # the host is checked against ALLOWED_HOSTS once a page, not per link
            # Django's own form of this request's URL (its path escaped, never taken for another host's).
            self._base_url = self.request.build_absolute_uri().partition("?")[0]
        return f"{self._base_url}?{urlencode(sorted(query.items()), doseq=True)}" if query else self._base_url

    def _url_without_paging(self):
        return self._url_with_cursor(None)


def _ordering_of(queryset) -> list[tuple[str, bool]]:
    """The list's order as (field path, descending), ending with the primary key so that it is unique."""
    meta = queryset.model._meta
    order = list(queryset.query.order_by) or list(meta.ordering)
    parsed = []
    for item in order:
        if not isinstance(item, str):
            raise TypeError(f"{meta.label}: cursor pages need an ordering by field names, not {item!r}")
        parsed.append((item.lstrip("-"), item.startswith("-")))
    if not any(name in ("pk", meta.pk.name, meta.pk.attname) for name, _ in parsed):
        parsed.append(("pk", parsed[-1][1] if parsed else False))
    return parsed


def _beyond(ordering, values, *, after: bool) -> Q:
    """Rows strictly after (or before) the given sort key in the list's order."""
    condition = None
    equal = Q()
    for (name, descending), value in zip(ordering, values, strict=True):
        greater = (not descending) == after
        step = Q(**{f"{name}__{'gt' if greater else 'lt'}": value})
        condition = equal & step if condition is None else condition | (equal & step)
        equal &= Q(**{name: value})
    # The first key's bound stated on its own lets the database read a range of its index.
    first, descending = ordering[0]
    bound = Q(**{f"{first}__{'gte' if (not descending) == after else 'lte'}": values[0]})
    return bound & condition


def _signed(payload: dict, scope: str) -> str:
    """`<payload>.<signature>`, both URL-safe base64: an HMAC of the payload and the list it belongs to (its
    path and order), under a key derived from SECRET_KEY for cursors only."""
    body = _unpadded(json.dumps(payload, separators=(",", ":")).encode())
    return f"{body}.{_signature(body, scope)}"


def _signature(body: str, scope: str, secret=None) -> str:
    return _unpadded(salted_hmac(_SALT, f"{scope}:{body}", secret=secret, algorithm="sha256").digest()[:16])


def _unpadded(data: bytes) -> str:
    """URL-safe base64 without its `=` padding, which a link would carry percent-encoded."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned(raw: str, scope: str) -> dict:
    """The payload of a cursor `_signed` for this scope (with SECRET_KEY or one of its fallbacks, as Django's
    signing accepts); signing.BadSignature for anything else."""
    body, _, signature = raw.rpartition(".")
    secrets = (settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS)
    if not body or not any(constant_time_compare(signature, _signature(body, scope, secret)) for secret in secrets):
        # A cursor of the earlier format (Django's signing, the scope as its salt), given before an upgrade.
        return signing.loads(raw, salt=scope)
    try:
        return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except (binascii.Error, ValueError):
        raise signing.BadSignature("Malformed cursor.") from None


def _value_of(row, path: str):
    value = row
    for part in path.split("__"):
        value = getattr(value, part)
    return value


def _json_value(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)  # UUID, Decimal

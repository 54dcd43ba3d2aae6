"""Printing: a table on a terminal, tab-separated text in a pipe, or one JSON document / JSON lines.

What scripts read stays exact — datetimes ISO 8601 in UTC ending in `Z`, sizes integers of bytes, ids
whole; tables alone show sizes for people (`2.5 MiB`) and fold long ids rather than cut them.
"""

import json
import sys
from datetime import UTC, datetime
from enum import StrEnum

from pydantic import BaseModel
from rich.console import Console
from rich.table import Table

stderr = Console(stderr=True)
ID_COLUMNS = {"uuid", "backup", "part", "application", "environment", "organisation", "service", "service_instance"}
ID_WIDTH = 26


class Format(StrEnum):
    TABLE = "table"
    JSON = "json"
    JSONL = "jsonl"


def _plain(item):
    if isinstance(item, BaseModel):
        return item.model_dump(mode="json", by_alias=True)
    return item


def _json_default(value):
    if isinstance(value, datetime):
        return timestamp(value)
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True)
    return str(value)


def timestamp(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with `Z`, as the API writes it."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def emit(items, columns: list[str], fmt: Format, *, single: bool = False) -> None:
    """Print `items` (an iterable of models or dicts); `--json` prints ONE document, all pages merged."""
    rows = [_plain(item) for item in ([items] if single else items)]
    if fmt is Format.JSON:
        json.dump(rows[0] if single else rows, sys.stdout, indent=2, default=_json_default)
        sys.stdout.write("\n")
        return
    if fmt is Format.JSONL:
        for row in rows:
            sys.stdout.write(json.dumps(row, default=_json_default) + "\n")
        return
    terminal = sys.stdout.isatty()
    if single:
        if not terminal:  # key<TAB>value lines, for `cut` and `grep`
            for key, value in rows[0].items():
                sys.stdout.write(f"{key}\t{_cell(key, value, human=False)}\n")
            return
        table = Table(show_header=False, box=None)
        table.add_column(style="bold", no_wrap=True)
        table.add_column(overflow="fold")
        for key, value in rows[0].items():
            table.add_row(key, _cell(key, value))
        Console().print(table)
        return
    if not terminal:
        for row in rows:
            sys.stdout.write("\t".join(_cell(column, row.get(column), human=False) for column in columns) + "\n")
        return
    table = Table()
    for column in columns:
        if column in ID_COLUMNS:  # an id is copied whole: never cut, never folded
            table.add_column(column.upper(), no_wrap=True, min_width=ID_WIDTH)
        else:
            table.add_column(column.upper(), overflow="fold")
    for row in rows:
        table.add_row(*[_cell(column, row.get(column)) for column in columns])
    Console().print(table)
    stderr.print(f"{len(rows)} item(s)", style="dim", highlight=False)


def _cell(column: str, value, human: bool = True) -> str:
    if value is None:
        return "-"
    if human and column == "size" and isinstance(value, int):
        return size(value)
    if isinstance(value, datetime):
        return timestamp(value) or "-"
    if human and isinstance(value, list) and value and all(isinstance(item, str) for item in value):
        return "\n".join(value)  # a log, errors: a line each
    if human and isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
        return "\n".join(", ".join(f"{k}={_cell(k, v, human)}" for k, v in item.items()) for item in value)
    if isinstance(value, list | dict):
        return json.dumps(value, default=_json_default)
    return str(value)


def size(value: int | None) -> str:
    """Bytes for people: `301 B`, `2.5 MiB`."""
    if value is None:
        return "-"
    if value < 1024:
        return f"{value} B"
    amount = float(value)
    for unit in ("KiB", "MiB", "GiB"):
        amount /= 1024
        if amount < 1024 or unit == "GiB":
            break
    return f"{amount:.1f} {unit}"

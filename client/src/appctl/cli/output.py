"""Printing: a table on a terminal, tab-separated text in a pipe, or one JSON document / JSON lines."""

import json
import sys
from enum import StrEnum

from pydantic import BaseModel
from rich.console import Console
from rich.table import Table

stderr = Console(stderr=True)


class Format(StrEnum):
    TABLE = "table"
    JSON = "json"
    JSONL = "jsonl"


def _plain(item):
    if isinstance(item, BaseModel):
        return item.model_dump(mode="json", by_alias=True)
    return item


def emit(items, columns: list[str], fmt: Format, *, single: bool = False) -> None:
    """Print `items` (an iterable of models or dicts); `--json` prints ONE document, all pages merged."""
    rows = [_plain(item) for item in ([items] if single else items)]
    if fmt is Format.JSON:
        json.dump(rows[0] if single else rows, sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
        return
    if fmt is Format.JSONL:
        for row in rows:
            sys.stdout.write(json.dumps(row, default=str) + "\n")
        return
    if single:
        table = Table(show_header=False, box=None)
        for key, value in rows[0].items():
            table.add_row(f"[bold]{key}[/]", _cell(value))
        Console().print(table)
        return
    if not sys.stdout.isatty():
        for row in rows:
            sys.stdout.write("\t".join(_cell(row.get(column)) for column in columns) + "\n")
        return
    table = Table(*[column.upper() for column in columns])
    for row in rows:
        table.add_row(*[_cell(row.get(column)) for column in columns])
    Console().print(table)
    stderr.print(f"{len(rows)} item(s)", style="dim", highlight=False)


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, list | dict):
        return json.dumps(value)
    return str(value)


def size(value: int | None) -> str:
    if value is None:
        return "-"
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return str(value)

"""Read `.env` files the way docker compose and most dotenv libraries do, and `NAME=VALUE` arguments.

Lines are `NAME=VALUE`, optionally prefixed by `export `; blank lines and lines starting with `#` are skipped.
A value in single quotes is taken literally; in double quotes, `\\n`, `\\t`, `\\"` and `\\\\` are escapes;
an unquoted value ends at ` #` (a comment) and loses surrounding spaces.
"""

import re

NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


class DotenvError(ValueError):
    pass


def parse_assignment(text: str, where: str) -> tuple[str, str]:
    """`NAME=VALUE` (the value taken as it is, quotes and all): for command-line arguments."""
    name, equals, value = text.partition("=")
    if not equals or not NAME.match(name):
        raise DotenvError(f"{where}: expected NAME=VALUE with a POSIX name, got {text!r}.")
    return name, value


def parse(text: str, source: str = ".env") -> dict[str, str]:
    values: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("export "):
            stripped = stripped[len("export ") :].lstrip()
        name, raw = parse_assignment(stripped, f"{source}, line {number}")
        values[name.strip()] = _value(raw.strip(), f"{source}, line {number}")
    return values


def _value(raw: str, where: str) -> str:
    if raw[:1] == "'":
        if len(raw) < 2 or not raw.endswith("'"):
            raise DotenvError(f"{where}: the value's single quote is not closed.")
        return raw[1:-1]
    if raw[:1] == '"':
        return _double_quoted(raw, where)
    comment = raw.find(" #")
    return (raw[:comment] if comment >= 0 else raw).strip()


def _double_quoted(raw: str, where: str) -> str:
    out: list[str] = []
    index = 1
    while index < len(raw):
        character = raw[index]
        if character == "\\" and index + 1 < len(raw):
            following = raw[index + 1]
            out.append(ESCAPES.get(following, "\\" + following))
            index += 2
            continue
        if character == '"':
            rest = raw[index + 1 :].strip()
            if rest and not rest.startswith("#"):
                raise DotenvError(f"{where}: unexpected text after the closing quote: {rest!r}.")
            return "".join(out)
        out.append(character)
        index += 1
    raise DotenvError(f"{where}: the value's double quote is not closed.")

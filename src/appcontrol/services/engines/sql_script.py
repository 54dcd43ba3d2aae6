"""Plain SQL from a tenant, checked and confined before psql runs it.

psql is more than a SQL pipe: `\\!` runs a shell, `\\c` connects elsewhere, `\\copy` and `\\o` touch files,
and a backslash starts such a command almost anywhere outside a literal. A restore script may hold SQL and
COPY data only. Three layers keep it that way:

1. `confine_script` reads the script with psql's own lexical rules (quotes, `E''` escapes, dollar quotes,
   nested comments, string continuation, `BEGIN ATOMIC` bodies, `COPY … FROM stdin` data up to `\\.`) and
   refuses any backslash command, naming its line — except the `\\restrict`/`\\unrestrict` lines pg_dump
   writes itself, which are dropped. It also refuses transaction control (`COMMIT`, `ROLLBACK`, …): the
   restore is one transaction, and a script must not be able to commit half of itself.
2. The confined script starts with `\\restrict <random key>`: psql itself then refuses every backslash
   command but `\\unrestrict <key>`, which the script cannot know. Should this scanner ever read a script
   differently from psql, psql still runs no command.
3. psql runs in the sandbox, as the instance's own database role (see `postgres.py`).
"""

import re
import secrets
from typing import BinaryIO

CHUNK = 1024 * 1024
# SQL text (not COPY data) is lexed a whole line at a time; a longer line is refused, not truncated.
MAX_SQL_LINE = 256 * 1024 * 1024

PG_DUMP_RESTRICT = re.compile(rb"\\(?:un)?restrict [A-Za-z0-9]+\r?\n?")
META_COMMAND_NAME = re.compile(rb"\\([A-Za-z!?|+]*)")
COPY_END = (b"\\.\n", b"\\.\r\n", b"\\.")
SET_STANDARD_STRINGS = re.compile(
    rb"\s*set\s+(?:session\s+|local\s+)?standard_conforming_strings\s*(?:=|to)\s*'?(\w+)'?", re.IGNORECASE
)

# In ordinary SQL text: what may start something the lexer must follow.
NORMAL_TOKEN = re.compile(
    rb"""
    (?P<space>[\s]+)
  | (?P<cast>::)
  | (?P<variable>:(?:'[A-Za-z0-9_\x80-\xff]+'|"[A-Za-z0-9_\x80-\xff]+"|[A-Za-z0-9_\x80-\xff]+))
  | (?P<ident>[A-Za-z_\x80-\xff][A-Za-z0-9_$\x80-\xff]*)
  | (?P<number>[0-9][A-Za-z0-9_.\x80-\xff]*)
  | (?P<dollar>\$(?:[A-Za-z_\x80-\xff][A-Za-z0-9_\x80-\xff]*)?\$)
  | (?P<param>\$[0-9]+)
  | (?P<line_comment>--)
  | (?P<block_comment>/\*)
  | (?P<other>[^\sA-Za-z0-9_\x80-\xff$'"\\;:()/\-]+|[/\-])
  | (?P<char>.)
    """,
    re.VERBOSE | re.DOTALL,
)
BLOCK_COMMENT_MARK = re.compile(rb"/\*|\*/")
NEWLINE = re.compile(rb"[\r\n]")
E_STRING_MARK = re.compile(rb"\\|'")
QUOTE_MARK = {b"'": re.compile(rb"'"), b'"': re.compile(rb'"')}

NORMAL, STRING, E_STRING, AFTER_STRING, QUOTED_IDENT, DOLLAR, COMMENT = range(7)
TRANSACTION_CONTROL = {b"begin", b"start", b"commit", b"end", b"abort", b"rollback"}
ROUTINE_WORDS = {b"create": b"c", b"function": b"f", b"procedure": b"p", b"or": b"o", b"replace": b"r"}


class ScriptError(Exception):
    """The script cannot be restored; the message names the line."""


class _Statement:
    """What the lexer needs to know about the statement being read (psql keeps the same)."""

    def __init__(self):
        self.started = False
        self.words: list[bytes] = []
        self.routine_marks: list[bytes] = []
        self.word_count = 0
        self.paren_depth = 0
        self.begin_depth = 0
        self.previous_word = b""
        self.copy_from_stdin = False
        self.head = bytearray()  # its first bytes, for `SET standard_conforming_strings`

    def add_word(self, word: bytes) -> None:
        lower = word.lower()
        if self.word_count < 4:
            self.routine_marks.append(ROUTINE_WORDS.get(lower, b""))
        self.word_count += 1
        if len(self.words) < 4:
            self.words.append(lower)
        # psql does not end a statement at a `;` inside the BEGIN ATOMIC … END body of
        # CREATE [OR REPLACE] FUNCTION|PROCEDURE; neither may this lexer.
        marks = b"".join(mark or b"-" for mark in self.routine_marks)
        if (marks[:2] in (b"cf", b"cp") or marks[:4] in (b"corf", b"corp")) and self.paren_depth == 0:
            if lower == b"begin":
                self.begin_depth += 1
            elif lower == b"case" and self.begin_depth >= 1:
                self.begin_depth += 1
            elif lower == b"end" and self.begin_depth > 0:
                self.begin_depth -= 1
        if self.previous_word == b"from" and lower == b"stdin" and self.paren_depth == 0 and self.words[0] == b"copy":
            self.copy_from_stdin = True
        self.previous_word = lower

    def ends_transaction(self) -> bool:
        first = self.words[0] if self.words else b""
        second = self.words[1] if len(self.words) > 1 else b""
        if first == b"rollback" and second == b"to":
            return False  # ROLLBACK TO SAVEPOINT stays inside the transaction
        return first in TRANSACTION_CONTROL or (first == b"prepare" and second == b"transaction")


def _comment_end(line: bytes, position: int) -> int:
    """Where a `--` comment ends: psql ends it at a carriage return as well as at a newline."""
    match = NEWLINE.search(line, position)
    return match.start() if match else len(line)


def _past_quote(line: bytes, position: int, quote: bytes, escapes: bool = False) -> tuple[int, bool]:
    """Where lexing goes on inside a quoted text, and whether the text closed there: a doubled quote is
    part of the text, and so is the character after a backslash in an E'' literal."""
    while True:
        match = (E_STRING_MARK if escapes else QUOTE_MARK[quote]).search(line, position)
        if match is None:
            return len(line), False
        if match.group() == b"\\":
            position = match.end() + 1
        elif line[match.end() : match.end() + 1] == quote:
            position = match.end() + 1
        else:
            return match.end(), True


def _copy_end(data: bytes, at_line_start: bool, at_eof: bool) -> int | None:
    """Where COPY data in `data` ends (just after its `\\.` line), or None."""
    ends = []
    for marker in COPY_END[:2]:
        if at_line_start and data.startswith(marker):
            return len(marker)
        found = data.find(b"\n" + marker)
        if found >= 0:
            ends.append(found + 1 + len(marker))
    if ends:
        return min(ends)
    if at_eof and (data == COPY_END[2] and at_line_start or data.endswith(b"\n" + COPY_END[2])):
        return len(data)
    return None


class _Pushback:
    """A stream that takes back what was read too far (the SQL after COPY data, the bytes a caller peeked at)."""

    def __init__(self, stream, head: bytes = b""):
        self.stream, self.buffer = stream, head

    def unread(self, data: bytes) -> None:
        self.buffer = data + self.buffer

    def read(self, size: int) -> bytes:
        if not self.buffer:
            return self.stream.read(size)
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def readline(self, size: int) -> bytes:
        if not self.buffer:
            return self.stream.readline(size)
        newline = self.buffer.find(b"\n", 0, size)
        if newline < 0 and len(self.buffer) < size:
            line, self.buffer = self.buffer, b""
            return line + self.stream.readline(size - len(line))
        cut = newline + 1 if newline >= 0 else size
        line, self.buffer = self.buffer[:cut], self.buffer[cut:]
        return line


class _Scanner:
    def __init__(self, source: _Pushback, out: BinaryIO | None, check):
        self.source, self.out, self.check = source, out, check
        self.line_number = 0
        self.state = NORMAL
        self.string_kind = STRING
        self.after_string_newline = False
        self.dollar_tag = b""
        self.comment_depth = 0
        self.standard_strings = True
        self.statement = _Statement()

    def fail(self, message: str):
        raise ScriptError(f"Line {self.line_number}: {message}")

    def write(self, data: bytes) -> None:
        if self.out is not None:
            self.out.write(data)

    def read_sql_line(self) -> bytes:
        line = self.source.readline(CHUNK)
        while line and not line.endswith(b"\n"):
            more = self.source.readline(CHUNK)
            if not more:
                break
            line += more
            if len(line) > MAX_SQL_LINE:
                self.line_number += 1
                self.fail(f"a line of SQL is longer than {MAX_SQL_LINE} bytes; use pg_dump's custom format.")
        return line

    def run(self) -> None:
        while line := self.read_sql_line():
            self.line_number += 1
            if self.line_number % 4096 == 0:
                self.check()
            if b"\0" in line:
                self.fail("the script holds a NUL byte, which psql would read differently.")
            if self.state == NORMAL and not self.statement.started and PG_DUMP_RESTRICT.fullmatch(line):
                continue  # pg_dump's own \restrict/\unrestrict: replaced by ours
            self.lex(line)
            self.write(line)
            if self.state == NORMAL and self.statement.copy_from_stdin and not self.statement.started:
                self.copy_data()

    def copy_data(self) -> None:
        """Pass COPY data through untouched, in blocks, up to the `\\.` line psql stops at; what follows it
        is SQL again. `pending` is the last, unfinished line of a block, kept while it could still be the
        end marker."""
        self.statement.copy_from_stdin = False
        pending, at_line_start = b"", True
        while True:
            self.check()
            block = self.source.read(CHUNK)
            if b"\0" in block:
                self.fail("COPY data holds a NUL byte, which psql would read differently.")
            data = pending + block
            end = _copy_end(data, at_line_start, at_eof=not block)
            if end is not None:
                self.write(data[:end])
                self.line_number += data.count(b"\n", 0, end)
                self.source.unread(data[end:])
                return
            if not block:
                self.write(data)
                return
            cut = data.rfind(b"\n") + 1
            if cut == 0 and len(data) > len(COPY_END[1]):
                cut = len(data)  # a long line without an end yet: it cannot be the marker
            self.write(data[:cut])
            self.line_number += data.count(b"\n", 0, cut)
            if cut:
                at_line_start = data[cut - 1 : cut] == b"\n"
            pending = data[cut:]

    def end_statement(self, line: bytes, position: int) -> None:
        statement = self.statement
        if statement.ends_transaction():
            self.fail(
                f"{statement.words[0].decode().upper()} is not allowed: a restore runs as one transaction, "
                "which the script may not end or restart."
            )
        match = SET_STANDARD_STRINGS.match(bytes(statement.head))
        if match:
            self.standard_strings = match.group(1).lower() in (b"on", b"true", b"yes", b"1")
        self.statement = _Statement()
        if statement.copy_from_stdin:
            rest = line[position:].strip()
            if rest and not rest.startswith(b"--"):
                self.fail("text follows COPY … FROM stdin on its line; its data must start on the next line.")
            self.statement.copy_from_stdin = True

    def lex(self, line: bytes) -> None:
        position, length = 0, len(line)
        while position < length:
            if self.state == NORMAL:
                position = self.lex_normal(line, position)
            elif self.state in (STRING, E_STRING):
                position, closed = _past_quote(line, position, b"'", escapes=self.state == E_STRING)
                if closed:
                    self.state, self.after_string_newline = AFTER_STRING, False
            elif self.state == AFTER_STRING:
                position = self.lex_after_string(line, position)
            elif self.state == QUOTED_IDENT:
                position, closed = _past_quote(line, position, b'"')
                if closed:
                    self.state = NORMAL
            elif self.state == DOLLAR:
                end = line.find(self.dollar_tag, position)
                if end < 0:
                    return
                self.state, position = NORMAL, end + len(self.dollar_tag)
            else:  # COMMENT
                match = BLOCK_COMMENT_MARK.search(line, position)
                if match is None:
                    return
                self.comment_depth += 1 if match.group() == b"/*" else -1
                position = match.end()
                if self.comment_depth == 0:
                    self.state = NORMAL

    def lex_after_string(self, line: bytes, position: int) -> int:
        """After a closing quote, `'…'<newline>'…'` continues the same literal (SQL's string continuation)."""
        char = line[position : position + 1]
        if char in (b" ", b"\t", b"\f") or (self.after_string_newline and char == b"\v"):
            return position + 1
        if char in (b"\n", b"\r"):
            self.after_string_newline = True
            return position + 1
        if line.startswith(b"--", position):
            return _comment_end(line, position)
        if char == b"'" and self.after_string_newline:
            self.state = self.string_kind
            return position + 1
        self.state = NORMAL
        return position

    def lex_normal(self, line: bytes, position: int) -> int:
        match = NORMAL_TOKEN.match(line, position)
        kind, text, end = match.lastgroup, match.group(), match.end()
        statement = self.statement
        if kind == "space":
            if statement.started and len(statement.head) < 200:
                statement.head += b" "
            return end
        if kind == "line_comment":
            return _comment_end(line, end)
        if kind == "block_comment":
            self.state, self.comment_depth = COMMENT, 1
            return end
        statement.started = True
        if len(statement.head) < 200:
            statement.head += text
        if kind == "ident":
            following = line[end : end + 1]
            if following == b"'" and text.lower() == b"e":
                self.state = self.string_kind = E_STRING
                return end + 1
            if following == b"'" and text.lower() in (b"b", b"x", b"n"):
                self.state = self.string_kind = STRING if self.standard_strings or text.lower() != b"n" else E_STRING
                return end + 1
            if text.lower() == b"u" and line[end : end + 2] in (b"&'", b'&"'):
                self.state = self.string_kind = STRING if line[end + 1 : end + 2] == b"'" else QUOTED_IDENT
                return end + 2
            statement.add_word(text)
            return end
        if kind == "dollar":
            self.state, self.dollar_tag = DOLLAR, text
            return end
        if kind == "char":
            if text == b"'":
                self.state = self.string_kind = STRING if self.standard_strings else E_STRING
            elif text == b'"':
                self.state = QUOTED_IDENT
            elif text == b"\\":
                name = META_COMMAND_NAME.match(line, position).group(1).decode("ascii", "replace")
                self.fail(
                    f"the psql command \\{name} is not allowed: a restore runs SQL and COPY data only "
                    "(use pg_dump's plain or custom format)."
                )
            elif text == b"(":
                statement.paren_depth += 1
            elif text == b")":
                statement.paren_depth = max(statement.paren_depth - 1, 0)
            elif text == b";" and statement.paren_depth == 0 and statement.begin_depth == 0:
                self.end_statement(line, end)
            return end
        return end  # numbers, parameters, operators and punctuation


def confine_script(
    source: BinaryIO, out: BinaryIO | None, preamble: bytes = b"", head: bytes = b"", check=lambda: None
) -> str:
    """Copy a plain SQL script (`head`, already read from it, then `source`) to `out` behind
    `\\restrict <key>` and `preamble`, refusing psql commands and transaction control; return the key.
    With `out=None` the script is only checked. `check()` is called every few thousand lines (the job's
    deadline)."""
    key = secrets.token_hex(32)
    if out is not None:
        out.write(b"\\restrict " + key.encode() + b"\n" + preamble)
    _Scanner(_Pushback(source, head), out, check).run()
    return key

"""The script check on its own: psql's lexical rules, COPY data, and what it refuses (no database needed)."""

import io

import pytest

from appcontrol.services.engines import sql_script
from appcontrol.services.engines.sql_script import ScriptError, confine_script

PG_DUMP_SCRIPT = b"""--
-- PostgreSQL database dump
--

\\restrict abcDEF123

SET standard_conforming_strings = on;
CREATE TABLE public.t (a integer, b text);
COMMENT ON TABLE public.t IS 'it''s a \\ table';
CREATE FUNCTION public.f() RETURNS text LANGUAGE plpgsql AS $_$BEGIN RETURN '\\! not a command'; END$_$;
CREATE FUNCTION public.g() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END;
/* a /* nested */ comment with \\! inside */
COPY public.t (a, b) FROM stdin;
1\tx\\\\y
2\t\\N
3\t\\! data, not a command
\\.

SELECT 'one'
'two';
SAVEPOINT s; ROLLBACK TO SAVEPOINT s;

\\unrestrict abcDEF123
"""


def confined(script: bytes, preamble: bytes = b"") -> bytes:
    out = io.BytesIO()
    key = confine_script(io.BytesIO(script), out, preamble)
    assert out.getvalue().startswith(f"\\restrict {key}\n".encode() + preamble)
    return out.getvalue()[len(f"\\restrict {key}\n") + len(preamble) :]


def test_a_pg_dump_script_passes_unchanged_but_for_its_restrict_lines():
    expected = PG_DUMP_SCRIPT.replace(b"\\restrict abcDEF123\n", b"").replace(b"\\unrestrict abcDEF123\n", b"")
    assert confined(PG_DUMP_SCRIPT, b"SELECT 0;\n") == expected


@pytest.mark.parametrize("chunk", [3, 7, 64])
def test_copy_data_is_found_across_block_boundaries(monkeypatch, chunk):
    monkeypatch.setattr(sql_script, "CHUNK", chunk)
    test_a_pg_dump_script_passes_unchanged_but_for_its_restrict_lines()
    with pytest.raises(ScriptError, match="Line 4"):
        confined(b"COPY t FROM stdin;\n1\n\\.\n\\! id\n")


@pytest.mark.parametrize(
    ("script", "line", "command"),
    [
        (b"SELECT 1;\n\\! id\n", 2, "\\!"),
        (b"SELECT 1 \\gexec\n", 1, "\\gexec"),
        (b"SELECT 'a' \\\\ \\! id\n", 1, "\\"),
        (b"COPY t FROM stdin;\n1\n\\.\n\\c other\n", 4, "\\c"),
        (b"SELECT $$ $$ \\o |id\n", 1, "\\o"),
        (b"SELECT E'a'\n'\\' '\\! id\n';\n", 2, "\\!"),  # E'' escapes carry over a continued literal
        (b"SELECT 1\n\\restrict other\n;\n", 2, "\\restrict"),  # dropped only between statements
        (b"SELECT (1;\n\\! id\n", 2, "\\!"),
    ],
)
def test_psql_commands_are_refused_by_line_and_name(script, line, command):
    with pytest.raises(ScriptError, match=rf"Line {line}: the psql command \{command}"):
        confined(script)


@pytest.mark.parametrize(
    "script",
    [
        b"SELECT 'a\\b';\n",
        b"SELECT E'it\\'s';\n",
        b"SELECT $tag$ \\! $x$ $tag$;\n",
        b'SELECT "we\\ird" FROM t;\n',
        b"SELECT 1; -- \\! in a comment\n",
        b"SELECT U&'\\0041';\n",
        b"SET standard_conforming_strings = off;\nSELECT 'it\\'s \\! data';\n",
        b"COPY t FROM stdin; -- data follows\n\\! data\n\\.\n",
    ],
)
def test_backslashes_inside_literals_comments_and_data_pass(script):
    assert confined(script) == script


@pytest.mark.parametrize(
    "statement",
    [b"COMMIT;", b"ROLLBACK;", b"BEGIN;", b"END;", b"START TRANSACTION;", b"ABORT;", b"PREPARE TRANSACTION 'x';"],
)
def test_transaction_control_is_refused(statement):
    with pytest.raises(ScriptError, match="one transaction"):
        confined(b"CREATE TABLE t (x int);\n" + statement + b"\n")


def test_a_comment_ends_at_a_carriage_return_as_in_psql():
    with pytest.raises(ScriptError, match="COMMIT is not allowed"):
        confined(b"-- note\rCOMMIT;\n")


@pytest.mark.parametrize("script", [b"SELECT 'a\0' \\! id';\n", b"COPY t FROM stdin;\n1\0\n\\.\n"])
def test_nul_bytes_are_refused(script):
    """psql reads lines as C strings: after a NUL it sees something else than the bytes that were checked."""
    with pytest.raises(ScriptError, match="NUL byte"):
        confined(script)


def test_psql_variables_are_not_words():
    """`a[1:begin]` holds the variable `:begin`, not the word BEGIN: psql ends this statement at `END;`, so
    the COMMIT after it is a statement of its own."""
    body = b"CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT a[1:begin] FROM t; END;\n"
    assert confined(body) == body
    with pytest.raises(ScriptError, match="COMMIT is not allowed"):
        confined(body + b"COMMIT;\n")


def test_text_after_copy_from_stdin_on_its_line_is_refused():
    with pytest.raises(ScriptError, match="data must start on the next line"):
        confined(b"COPY t FROM stdin; SELECT 1;\n1\n\\.\n")

"""A route's upstream file: replaced atomically when its address changes, untouched when it does not (the
reconciler writes every route's file each round)."""

from appcontrol.runtime.caddy import write_upstream


def test_an_unchanged_address_leaves_the_file_alone_and_a_new_one_replaces_it(tmp_path):
    path = tmp_path / "upstreams" / "environment"
    write_upstream(path, "127.0.0.1:20001")
    first = path.stat().st_ino
    write_upstream(path, "127.0.0.1:20001")
    assert path.stat().st_ino == first
    write_upstream(path, "127.0.0.1:20002")
    assert path.read_text() == "127.0.0.1:20002" and path.stat().st_ino != first
    assert [child.name for child in path.parent.iterdir()] == ["environment"]  # no partial file left

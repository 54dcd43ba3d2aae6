import uuid

import pytest

from appcontrol.core.ids import InvalidId, decode_id, encode_id


def test_seed_example_id_round_trips():
    value = decode_id("bagztldeadfdhlilnmpzx3twly")
    assert encode_id(value) == "bagztldeadfdhlilnmpzx3twly"


def test_every_uuid_is_26_lowercase_base32_characters():
    for _ in range(200):
        value = uuid.uuid4()
        text = encode_id(value)
        assert len(text) == 26
        assert text == text.lower()
        assert set(text) <= set("abcdefghijklmnopqrstuvwxyz234567")
        assert decode_id(text) == value


def test_dashed_plain_hex_and_upper_case_forms_decode_to_the_same_uuid():
    value = uuid.uuid4()
    assert decode_id(str(value)) == value
    assert decode_id(value.hex) == value
    assert decode_id(encode_id(value).upper()) == value


@pytest.mark.parametrize(
    "text",
    [
        "",
        "x",
        "bagztldeadfdhlilnmpzx3twl",
        "bagztldeadfdhlilnmpzx3twly0",
        "bagztldeadfdhlilnmpzx3tw1y",
        "bagztldeadfdhlilnmpzx3twlz",
        "../etc/passwd",
        "00000000-0000-0000-0000-00000000000g",
        "{}",
    ],
)
def test_malformed_ids_are_rejected(text):
    with pytest.raises(InvalidId):
        decode_id(text)


def test_non_strings_are_rejected():
    with pytest.raises(InvalidId):
        decode_id(123)

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tertulia.core.ids import MAX_ID, parse_id


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", 1),
        (" 42 ", 42),
        (7, 7),
        (str(MAX_ID), MAX_ID),
        ("0", None),
        ("-3", None),
        ("²", None),
        ("٣", None),
        ("9" * 25, None),
        (str(MAX_ID + 1), None),
        ("1e3", None),
        ("", None),
        (None, None),
        (True, None),
        ("1 OR 1=1", None),
    ],
)
def test_only_plain_positive_ids_in_range(raw, expected):
    assert parse_id(raw) == expected


@given(st.text())
def test_never_raises(raw):
    value = parse_id(raw)
    assert value is None or 1 <= value <= MAX_ID

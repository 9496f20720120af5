"""The fast paths for large inputs give exactly what the plain ones gave.

`values._split` stands in for `_SEPARATOR.split`, and `jsonout.dumps` (orjson) for
`json.dumps`; both are checked on generated inputs, separators and signed zeros included.
"""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gradexplain.ir import values
from gradexplain.ir.values import from_text
from gradexplain.output import jsonout

SEPARATOR_TEXT = st.text(alphabet=" \t\n\r\x0b\x1c\xa0\u2003,1.-e", max_size=40)
FLOATS = st.floats(allow_nan=False, allow_infinity=False)


@settings(max_examples=2000)
@given(SEPARATOR_TEXT)
def test_split_matches_the_regular_expression(text: str) -> None:
    stripped = text.strip()
    if stripped:
        assert values._split(stripped) == values._SEPARATOR.split(stripped)


def test_a_file_of_a_million_numbers_reads_back_exactly() -> None:
    numbers = [i / 7 - 5e4 for i in range(10**6)]
    text = (
        "\n".join(map(repr, numbers[:500_000]))
        + "\n"
        + ", ".join(map(repr, numbers[500_000:]))
        + "\n"
    )
    assert from_text("x", text, origin="big.txt").data.tolist() == numbers


@given(
    st.lists(
        st.one_of(
            st.lists(FLOATS, min_size=995, max_size=1005),
            st.lists(st.sampled_from([0.0, -0.0]), min_size=1000, max_size=1000),
            st.lists(st.one_of(FLOATS, st.just("nan"), st.none()), max_size=5),
            st.text(max_size=5),
        ),
        max_size=4,
    )
)
# the lists are long on purpose (about 1000 floats: the numpy-buffer path); hypothesis
# sometimes finds that too much entropy to generate, which is a health check, not a bug
@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.data_too_large])
def test_dumps_reads_back_exactly(items: list[object]) -> None:
    payload = {"items": items, "again": items[:2], "nested": {"first": items[:1]}}
    text = jsonout.dumps(payload)
    # repr tells -0.0 from 0.0 and shows every digit of a float
    assert repr(json.loads(text, parse_constant=_refuse)) == repr(payload)
    assert json.loads(json.dumps(payload, allow_nan=False, ensure_ascii=False)) == json.loads(text)


def _refuse(constant: str) -> None:
    raise AssertionError(f"{constant} is not JSON")


@pytest.mark.parametrize("bad", [math.inf, -math.inf, math.nan])
@pytest.mark.parametrize("where", ["long list", "scalar", "nested"])
def test_dumps_still_refuses_non_finite_numbers(bad: float, where: str) -> None:
    # orjson would write null; a null where a number belongs must not reach a script
    payload: dict[str, object] = {
        "long list": {"x": [1.0] * 999 + [bad], "formula": None},
        "scalar": {"value": bad},
        "nested": {"a": [{"b": [0.5, None, bad]}]},
    }[where]
    with pytest.raises(ValueError, match="non-finite"):
        jsonout.dumps(payload)


def test_dumps_escapes_what_utf_8_cannot_carry() -> None:
    # a lone surrogate (from an undecodable argument) still gives valid JSON
    assert json.loads(jsonout.dumps({"name": "x\udcff"})) == {"name": "x\udcff"}

"""The JSON document (format_version 1): strict RFC 8259, shaped like the input.

Non-finite numbers become the strings "nan", "inf" and "-inf", since JSON has no such
numbers. `schema/explanation.schema.json` describes the document.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from array import array
from typing import Any

from gradexplain.errors import GradexplainError
from gradexplain.result import Explanation, Gradient

FORMAT_VERSION = 1
_PASTE_LENGTH = 1_000  # float lists at least this long are formatted once, by `dumps`


def number(value: float) -> float | str:
    """A float as JSON allows it: non-finite values as strings."""
    value = float(value)
    if math.isfinite(value):
        return value
    return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")


def numbers(array: Any) -> Any:
    """An array as a number (shape ()) or a list, non-finite values as strings."""
    import numpy as np

    values = np.asarray(array, dtype=np.float64)
    if values.ndim == 0:
        return number(float(values))
    if values.ndim > 1:
        return [numbers(row) for row in values]
    listed: list[Any] = values.tolist()
    if not np.isfinite(values).all():
        listed = [number(v) for v in listed]
    return listed


def _gradient(gradient: Gradient) -> dict[str, Any]:
    return {
        "shape": list(gradient.shape),
        "formula": gradient.formula,
        "symbolic": numbers(gradient.symbolic),
        "autograd": numbers(gradient.autograd),
        "max_abs_diff": number(gradient.max_abs_diff),
        "agree": gradient.agree,
        "sentence": gradient.sentence,
    }


def document(result: Explanation) -> dict[str, Any]:
    """Everything the table shows, for scripts."""
    decomposition = result.decomposition
    payload: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "expression": result.expression,
        "device": result.device,
        "dtype": result.dtype,
        "n": result.n,
        "value": number(result.value),
        "value_symbolic": number(result.value_symbolic),
        "agree": result.agree,
        "status": result.status.name.lower(),
        "exit_code": int(result.status),
        "tolerance": {"rtol": result.tolerance.rtol, "atol": result.tolerance.atol},
        "decomposition": {
            "rule": decomposition.rule,
            "summary": decomposition.summary,
            "implicit_ones": decomposition.implicit_ones,
            "term": decomposition.term,
            "notes": list(decomposition.notes),
        },
        "gradients": {name: _gradient(g) for name, g in result.gradients.items()},
        "singularities": [
            {"function": s.function, "column": s.column + 1, "kind": s.kind,
             "reason": s.reason, "elements": None if s.elements is None else list(s.elements)}
            for s in result.singularities
        ],
        "verdict": result.verdict(),
    }
    if result.data:
        payload["data"] = list(result.data)
    if result.hessian is not None:
        hessian = result.hessian
        payload["hessian"] = {"elements": list(hessian.labels),
                              "symbolic": numbers(hessian.symbolic),
                              "autograd": numbers(hessian.autograd),
                              "max_abs_diff": number(hessian.max_abs_diff),
                              "agree": hessian.agree}
    if result.shapes:
        payload["shapes"] = {name: list(shape) for name, shape in result.shapes.items()}
    if result.extras:
        from gradexplain.teach import augment

        augment(payload, result)
    return payload


def error_document(error: GradexplainError) -> dict[str, Any]:
    """What stdout holds in JSON mode when the input is refused."""
    return {"format_version": FORMAT_VERSION, "error": error.to_json(),
            "exit_code": int(error.exit_status)}


def dumps(payload: Any) -> str:
    """`json.dumps(payload, allow_nan=False, ensure_ascii=False)`: the same text, faster.

    Formatting floats is nearly all the time a large document takes, and the symbolic
    and autograd gradients are usually the same numbers. So each distinct long list of
    finite floats is formatted once, by `repr` (json's digits and separators), and pasted
    in where a placeholder string stands.
    """
    nonce = os.urandom(8).hex()
    pasted: dict[bytes, int] = {}  # digest of the exact bytes (-0.0 and 0.0 differ) -> index
    texts: list[str] = []

    def swap(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: swap(item) for key, item in value.items()}
        if not isinstance(value, list):
            return value
        if not _pasteable(value):
            return [swap(item) for item in value]
        digest = hashlib.blake2b(array("d", value)).digest()
        if digest not in pasted:
            pasted[digest] = len(texts)
            texts.append(repr(value))
        return f"gradexplain-list-{nonce}-{pasted[digest]}"

    pieces = json.dumps(swap(payload), allow_nan=False, ensure_ascii=False) \
        .split(f'"gradexplain-list-{nonce}-')
    joined = [pieces[0]]
    for piece in pieces[1:]:  # no copy of a list's text before the final join
        index, _, rest = piece.partition('"')
        joined += (texts[int(index)], rest)
    del texts, pieces
    return "".join(joined)


def _pasteable(values: list[Any]) -> bool:
    return len(values) >= _PASTE_LENGTH and set(map(type, values)) == {float} \
        and all(map(math.isfinite, values))

"""The JSON document (format_version 1): strict RFC 8259, shaped like the input.

Non-finite numbers become the strings "nan", "inf" and "-inf", since JSON has no such
numbers. `explanation.schema.json`, beside this module and shipped in the wheel, describes
the document; `gradexplain --schema` prints it.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from gradexplain.errors import ExitStatus, GradexplainError
from gradexplain.status import exit_status

if TYPE_CHECKING:  # an input error's document needs neither
    from gradexplain.result import Explanation, Gradient

FORMAT_VERSION = 1
SCHEMA_FILE = "explanation.schema.json"  # package data of gradexplain


def schema_text() -> str:
    """The JSON Schema of the document, read from the installed package (no torch, no SymPy)."""
    from importlib.resources import files

    return files("gradexplain").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")


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


def _finite_array(array: Any) -> Any:
    """`numbers(array)`, but a finite float64 vector or matrix stays an array for `dumps`.

    A list of 10**6 Python floats costs 32 MB and 20 ms to build; orjson writes the
    array's own buffer.
    """
    import numpy as np

    values = np.asarray(array, dtype=np.float64)
    if values.ndim in (1, 2) and np.isfinite(values).all():
        return np.ascontiguousarray(values)  # what orjson can write
    return numbers(values)


def _gradient(gradient: Gradient, matrix_form: str | None) -> dict[str, Any]:
    return {
        "shape": list(gradient.shape),
        "formula": gradient.formula,
        "symbolic": _finite_array(gradient.symbolic),
        "autograd": _finite_array(gradient.autograd),
        "max_abs_diff": number(gradient.max_abs_diff),
        "agree": gradient.agree,
        "tiny": gradient.tiny,
        "sentence": gradient.sentence,
        **({} if matrix_form is None else {"matrix_form": matrix_form}),
    }


def document(result: Explanation) -> dict[str, Any]:
    """Everything the table shows, for scripts."""
    from dataclasses import asdict

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
        "tolerance": asdict(result.tolerance),  # rtol, atol, floor
        "decomposition": {
            "rule": decomposition.rule,
            "summary": decomposition.summary,
            "implicit_ones": decomposition.implicit_ones,
            "term": decomposition.term,
            "notes": list(decomposition.notes),
        },
        "gradients": {
            name: _gradient(g, result.matrix_forms.get(name))
            for name, g in result.gradients.items()
        },
        "singularities": [
            {
                "function": s.function,
                "column": s.column + 1,
                "kind": s.kind,
                "reason": s.reason,
                "elements": None if s.elements is None else list(s.elements),
                "shape": list(s.shape),
            }
            for s in result.singularities
        ],
        "nonfinite": [
            {
                "gradient": item.gradient,
                "kind": item.kind,
                "reason": item.reason,
                "elements": list(item.elements),
            }
            for item in result.nonfinite
        ],
        "verdict": result.verdict(),
    }
    if result.data:
        payload["data"] = list(result.data)
    if result.hessian is not None:
        hessian = result.hessian
        payload["hessian"] = {
            "elements": list(hessian.labels),
            "symbolic": numbers(hessian.symbolic),
            "autograd": numbers(hessian.autograd),
            "max_abs_diff": number(hessian.max_abs_diff),
            "agree": hessian.agree,
        }
        if hessian.undefined is not None:
            payload["hessian"]["undefined"] = hessian.undefined
    if result.shapes:
        payload["shapes"] = {name: list(shape) for name, shape in result.shapes.items()}
    if result.extras:
        augment(payload, result)
    return payload


def augment(document: dict[str, Any], result: Explanation) -> None:
    """Add the extras to the JSON document (new keys only; existing keys unchanged)."""
    extras = result.extras
    if "finite_differences" in extras:
        for name, fd in extras["finite_differences"].items():
            found = document["gradients"][name]["finite_differences"] = {
                "values": numbers(fd.values),
                "agree": fd.agree,
                "eps": fd.eps,
                "rtol": fd.rtol,
                "atol": fd.atol,
                "max_abs_diff": numbers(fd.max_abs_diff),
                "mode": fd.mode,
                "reason": fd.reason,
            }
            if fd.mode != "per element":  # values are along the directions
                found["autograd_along"] = numbers(fd.autograd)
    if "graph" in extras:
        built = extras["graph"]
        document["graph"] = {
            "nodes": [
                {
                    "id": n.id,
                    "name": n.name,
                    "label": n.label,
                    "value": None if n.value is None else numbers(n.value),
                    "grad": None if n.grad is None else numbers(n.grad),
                    "grad_output": n.output,  # which output `grad` reached (slogdet: 1)
                    "shape": None if n.value is None else list(n.value.shape),
                }
                for n in built.nodes
            ],
            "edges": [{"from": e.child, "to": e.parent, "rule": e.rule} for e in built.edges],
        }
    if "steps" in extras:
        document["steps"] = {
            name: {"lines": list(d.lines), "formula": d.formula}
            for name, d in extras["steps"].items()
        }
    if "vjp" in extras:
        document["vjp"] = extras["vjp"].to_json()
    if "jacobian" in extras:
        document["jacobian"] = extras["jacobian"].to_json()


def error_document(error: GradexplainError) -> dict[str, Any]:
    """What stdout holds in JSON mode when the input is refused."""
    return {
        "format_version": FORMAT_VERSION,
        "error": error.to_json(),
        "exit_code": int(exit_status(error)),
    }


def bug_document(message: str, status: ExitStatus) -> dict[str, Any]:
    """What stdout holds in JSON mode when gradexplain itself failed (exit 70): the error
    document's shape, type "internal"."""
    error = {"type": "internal", "message": message}
    return {"format_version": FORMAT_VERSION, "error": error, "exit_code": int(status)}


def dumps(payload: Any) -> str:
    """The document as compact, strict JSON text (RFC 8259, UTF-8, no NaN).

    Formatting floats is nearly all the time a large document takes: the stdlib writes
    10**6 floats in about 0.6 s, orjson (Ryu, the shortest text that reads back to the
    same float) in about 0.04 s. Both write numbers that read back exactly. orjson refuses
    lone surrogates, which only a mangled command-line argument can carry; the stdlib
    writes those as escapes instead, so stdout stays valid JSON.
    """
    import orjson

    try:
        text = orjson.dumps(payload, option=orjson.OPT_SERIALIZE_NUMPY)
    except orjson.JSONEncodeError:
        import json

        return json.dumps(  # `default`: the arrays `_finite_array` left in the document
            payload,
            allow_nan=False,
            ensure_ascii=True,
            separators=(",", ":"),
            default=lambda array: array.tolist(),
        )
    if b"null" in text and _has_non_finite(payload):  # orjson writes nan and inf as null
        raise ValueError("non-finite float in a JSON document: a bug, not an input error")
    return text.decode("utf-8")


def _has_non_finite(value: Any) -> bool:
    """A walk of the document, only when its text has a null that a nan could have made."""
    import numpy as np

    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, float) and not math.isfinite(item):
            return True
        if hasattr(item, "dtype") and not np.isfinite(item).all():  # a numpy array
            return True
        if isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, (list, tuple)):
            pending.extend(item)
    return False


def write(file: Any, payload: Any) -> None:
    """`dumps(payload)` and a newline on `file`; where the stream cannot encode UTF-8
    (PYTHONIOENCODING=ascii, a code page) non-ASCII characters are `\\uXXXX` escapes:
    the same document, in ASCII."""
    from gradexplain.output.streams import ascii_json, can_encode

    text = dumps(payload)
    if not text.isascii() and not can_encode(file, text):
        text = ascii_json(text)
    file.write(text + "\n")

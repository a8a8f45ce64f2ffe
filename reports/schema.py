"""The results format (``env.json`` and ``checks-*.jsonl``) and its validation.

The conformance plugin writes these files and imports ``SCHEMA_VERSION`` from here, so the
writer and the reader share one version number. Validation is strict on the fields the report
uses (names, types, enumerations) and tolerant of extra fields, so a newer writer that only
adds fields stays readable. Every error names the file and line it comes from.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from conformance.vocabulary import FLOAT_DTYPES as DTYPES
from conformance.vocabulary import MODES, PRECISION_MODES, VERDICTS

SCHEMA_VERSION = 1

# Worst first: the order in which a matrix cell picks the verdict it shows.
SEVERITY = ("fail", "error", "xpass", "xfail", "pass", "skip", "unsupported")


class ReportError(Exception):
    """Input the report cannot be built from; the message starts with ``path:line:``."""


Check = Callable[[Any], bool]


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _is_str(v: Any) -> bool:
    return isinstance(v, str)


def _is_dict(v: Any) -> bool:
    return isinstance(v, dict)


def _is_list(v: Any) -> bool:
    return isinstance(v, list)


def _is_bool(v: Any) -> bool:
    return isinstance(v, bool)


def _any(v: Any) -> bool:
    return True


_TYPE_NAMES = {
    _is_int: "an integer", _is_num: "a number", _is_str: "a string", _is_dict: "an object",
    _is_list: "a list", _is_bool: "a boolean", _any: "anything",
}


def _describe(check: Check) -> str:
    return _TYPE_NAMES.get(check, check.__name__)


def _nullable(check: Check) -> Check:
    def ok(v: Any) -> bool:
        return v is None or check(v)

    ok.__name__ = f"{_describe(check)} or null"
    return ok


def _one_of(values: tuple[str, ...]) -> Check:
    def ok(v: Any) -> bool:
        return v in values

    ok.__name__ = "one of " + ", ".join(repr(x) for x in values)
    return ok


Fields = Mapping[str, "Check | Fields"]

FRAMEWORK: Fields = {"name": _is_str, "version": _is_str}
DEVICE: Fields = {"requested": _is_str, "actual": _is_str, "name": _nullable(_is_str)}
PRECISION: Fields = {"mode": _one_of(PRECISION_MODES), "flags": _is_dict}
HOST: Fields = {"hostname": _is_str, "platform": _is_str, "python": _is_str, "cpu": _is_str,
                "cores": _nullable(_is_int), "gpu": _nullable(_is_str)}

ENV: Fields = {
    "schema": _is_int, "run_id": _is_str, "started": _is_str, "finished": _nullable(_is_str),
    "backend": _is_str, "adapter": _is_str, "framework": FRAMEWORK, "device": DEVICE,
    "dtypes": _is_list, "ops": _is_str, "examples": _is_int, "seed": _is_int,
    "precision": PRECISION, "host": HOST, "packages": _is_dict, "command": _is_str,
    "totals": _nullable(_is_dict),
}

BOUND: Fields = {"rule": _is_str, "C": _is_num, "floor_eps": _is_num,
                 "allowed_at_worst": _nullable(_is_num)}
WORST: Fields = {"output": _is_str, "index": _is_list, "got": _nullable(_is_num),
                 "expected": _nullable(_is_num)}
DIVERGENCE: Fields = {"id": _is_str, "category": _is_str, "reason": _is_str,
                      "link": _nullable(_is_str)}
ARRAY: Fields = {"name": _is_str, "dtype": _is_str, "shape": _is_list, "data": _any}
CASE: Fields = {"args": _is_list, "kwargs": _is_dict}

CHECK: Fields = {
    "schema": _is_int, "run_id": _is_str, "nodeid": _is_str, "op": _is_str, "spec": _is_str,
    "mode": _one_of(MODES), "backend": _is_str, "framework_version": _is_str, "device": _is_str,
    "dtype": _one_of(DTYPES), "seed": _is_int, "example": _is_int, "verdict": _one_of(VERDICTS),
    "ratio": _nullable(_is_num), "max_abs_err": _nullable(_is_num),
    "max_ulp": _nullable(_is_num), "bound": BOUND, "worst": WORST, "divergence": DIVERGENCE,
    "duration_s": _is_num, "minimal": _is_bool, "message": _nullable(_is_str),
    "case": CASE, "expected": _nullable(_is_list), "reproducer": _nullable(_is_str),
    "rerun": _is_str,
}
# Nested records that the format allows to be null as a whole.
NULLABLE_OBJECTS = {"bound", "worst", "divergence", "case"}


def _check_fields(obj: Any, fields: Fields, path: str) -> None:
    if not isinstance(obj, dict):
        raise ValueError(f"{path or 'record'} must be an object, got {type(obj).__name__}")
    for name, rule in fields.items():
        where = f"{path}.{name}" if path else name
        if name not in obj:
            raise ValueError(f"missing field {where!r}")
        value = obj[name]
        if isinstance(rule, Mapping):
            if value is None and name in NULLABLE_OBJECTS:
                continue
            _check_fields(value, rule, where)
        elif not rule(value):
            raise ValueError(f"field {where!r} must be {_describe(rule)}, got {value!r:.60}")


def _check_schema(obj: Any) -> None:
    if isinstance(obj, dict) and "schema" in obj and obj["schema"] != SCHEMA_VERSION:
        raise ValueError(f"results schema {obj['schema']!r} is not supported "
                         f"(this report reads schema {SCHEMA_VERSION})")


def _check_arrays(items: list[Any], path: str) -> None:
    for i, item in enumerate(items):
        _check_fields(item, ARRAY, f"{path}[{i}]")


def validate_env(obj: Any, where: str) -> dict[str, Any]:
    """The env.json object, checked; ``where`` (its path) starts error messages."""
    try:
        _check_schema(obj)
        _check_fields(obj, ENV, "")
        if not all(isinstance(d, str) for d in obj["dtypes"]):
            raise ValueError("field 'dtypes' must be a list of strings")
    except ValueError as exc:
        raise ReportError(f"{where}: {exc}") from None
    return obj


def validate_check(obj: Any, where: str) -> dict[str, Any]:
    """One check record, checked; ``where`` is ``path:line`` for error messages."""
    try:
        _check_schema(obj)
        _check_fields(obj, CHECK, "")
        if obj["case"] is not None:
            _check_arrays(obj["case"]["args"], "case.args")
        if obj["expected"] is not None:
            _check_arrays(obj["expected"], "expected")
        if obj["worst"] is not None and not all(_is_int(i) for i in obj["worst"]["index"]):
            raise ValueError("field 'worst.index' must be a list of integers")
    except ValueError as exc:
        raise ReportError(f"{where}: {exc}") from None
    return obj


def severity(verdict: str) -> int:
    """0 for the worst verdict (fail); skip and unsupported rank last."""
    return SEVERITY.index(verdict)

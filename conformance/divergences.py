"""Known divergences as data: ``conformance/divergences/<backend>/<family module>.toml``.

Each ``[[divergence]]`` entry names the checks it covers (a glob on the spec id, optional
modes, dtypes, devices and a framework version range), a category (convention, precision,
bug, unsupported), a reason and a link. Strict by default: an expected failure that passes
fails the test; ``strict = false`` (with its reason) marks an input-dependent divergence that
a run may or may not meet. ``unsupported`` entries skip the check with their reason. Entries
that match no check in a run are warned about at the end.
"""

from __future__ import annotations

import fnmatch
import re
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from conformance.vocabulary import FLOAT_DTYPES, machine_eps

CATEGORIES = ("convention", "precision", "bug", "unsupported")
FIELDS = {"id", "ops", "modes", "dtypes", "devices", "category", "reason", "link", "versions",
          "strict", "max_ratio", "raises", "when", "nonfinite", "max_abs_eps", "shape"}
DTYPES = FLOAT_DTYPES


class DivergenceFileError(ValueError):
    pass


@dataclass(frozen=True)
class Divergence:
    id: str
    ops: str
    category: str
    reason: str
    link: str | None = None
    modes: tuple[str, ...] | None = None
    dtypes: tuple[str, ...] | None = None
    devices: tuple[str, ...] | None = None
    versions: str | None = None
    strict: bool = True
    # What the entry allows: a ratio ceiling (error / bound, measured and stated in the
    # reason) and/or the exception a check may raise (a regex on "Type: message"). Beyond
    # them a check fails as if the entry did not exist.
    max_ratio: float | None = None
    raises: str | None = None
    # Facts of the run's fingerprint the entry is about (``{"onednn": "off"}``,
    # ``{"cpu.avx512f": "no"}``); a value may be a list of alternatives.
    when: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # ``max_ratio = { float64 = 3e14, float16 = 40 }``: a ceiling per dtype (a ratio scales
    # with 1 / eps for the same relative difference, so one number for all dtypes would let
    # the half types through anything); ``for_dtype`` picks the check's own.
    ratio_by_dtype: tuple[tuple[str, float], ...] = ()
    # An overflow entry: the check may see inf / NaN where the oracle is finite (ratio inf),
    # the reason saying where and why; a finite error is still held to max_ratio.
    nonfinite: bool = False
    # An absolute error model: |got - exact| <= max_abs_eps * eps(dtype) at the worst element
    # (an error of a few rounding units of an O(1) intermediate on a result near zero, such
    # as log(1 + s) rounded before the log), for entries where a ratio ceiling would scale
    # with 1 / |result| and so hide anything.
    max_abs_eps: float | None = None
    # A regex on an output's shape mismatch ("got shape (1, 2, 3, 3), expected (1, 2, 4, 4)")
    # for a kernel that returns the wrong shape.
    shape: str | None = None

    abs_by_dtype: tuple[tuple[str, float], ...] = ()

    def for_dtype(self, dtype: str) -> Divergence:
        """The entry as it applies to one dtype (its own ceilings from per-dtype tables)."""
        if not (self.ratio_by_dtype or self.abs_by_dtype):
            return self
        out = replace(self, ratio_by_dtype=(), abs_by_dtype=())
        if self.ratio_by_dtype:
            out = replace(out, max_ratio=dict(self.ratio_by_dtype).get(dtype, 1.0))
        if self.abs_by_dtype:
            out = replace(out, max_abs_eps=dict(self.abs_by_dtype).get(dtype, 0.0))
        return out

    def matches(self, spec_id: str, mode: str, dtype: str, device: str, version: str,
                facts: dict[str, str] | None = None) -> bool:
        return (
            (fnmatch.fnmatchcase(spec_id, self.ops)
             or fnmatch.fnmatchcase(spec_id.split("/")[0], self.ops))
            and (self.modes is None or mode in self.modes)
            and (self.dtypes is None or dtype in self.dtypes)
            and self.applies_to(device, version, facts)
        )

    def applies_to(self, device: str, version: str, facts: dict[str, str] | None = None) -> bool:
        """Whether the entry is about this device, framework version and machine at all."""
        return ((self.devices is None or device.split(":")[0] in self.devices)
                and (self.versions is None or version_in(version, self.versions))
                and all((facts or {}).get(k) in vs for k, vs in self.when))

    def allows_ratio(self, ratio: float) -> bool:
        if ratio == float("inf") and self.nonfinite:
            return True
        return self.max_ratio is None or ratio <= self.max_ratio

    def sized(self) -> bool:
        return (self.max_ratio is not None or self.max_abs_eps is not None or self.nonfinite
                or self.shape is not None or self.raises is not None
                or bool(self.ratio_by_dtype) or bool(self.abs_by_dtype))

    def allows_outcome(self, outcome: Any, dtype: str) -> bool:
        """Whether every output of a failed check is within what the entry states: a ratio
        ceiling, an absolute error in eps of the dtype, non-finite values, a shape."""
        if not self.sized():
            return True  # an entry without a stated size (before sizes existed)
        eps = machine_eps(dtype)
        for a in outcome.agreements:
            if a.passed:
                continue
            if a.shape_mismatch:
                if self.shape is None or re.search(self.shape, a.shape_mismatch) is None:
                    return False
                continue
            if a.ratio == float("inf") or a.nan_mismatch:
                if not self.nonfinite:
                    return False
                continue
            if self.max_ratio is not None and a.ratio <= self.max_ratio:
                continue
            if self.max_abs_eps is not None and a.max_abs_err <= self.max_abs_eps * eps:
                continue
            return False
        return True

    def allows_error(self, message: str) -> bool:
        """An exception is expected only from an entry that names it (or one without a
        stated size, which predates sizes: unsupported, convention)."""
        if self.raises is not None:
            return re.search(self.raises, message) is not None
        return not self.sized()

    def skip_reason(self) -> str | None:
        """The reason a check or benchmark this entry covers is skipped: only ``unsupported``
        entries skip."""
        return f"[unsupported] {self.id}: {self.reason}" if self.category == "unsupported" else None

    def allowance(self) -> str:
        table = ", ".join(f"{d} {r:g}" for d, r in self.ratio_by_dtype)
        parts = ([f"ratio <= {self.max_ratio:g}"] if self.max_ratio is not None
                 else [f"ratio <= ({table})"] if table else [])
        abs_table = ", ".join(f"{d} {r:g}" for d, r in self.abs_by_dtype)
        parts += ([f"|error| <= {self.max_abs_eps:g} eps"] if self.max_abs_eps is not None
                  else [f"|error| <= ({abs_table}) eps"] if abs_table else [])
        parts += ["non-finite values"] if self.nonfinite else []
        parts += [f"shape /{self.shape}/"] if self.shape else []
        parts += [f"raises /{self.raises}/"] if self.raises else []
        return " or ".join(parts) or "any size (no stated size)"

    def as_record(self) -> dict[str, Any]:
        return {"id": self.id, "category": self.category, "reason": self.reason, "link": self.link,
                "max_ratio": self.max_ratio, "raises": self.raises,
                "max_abs_eps": self.max_abs_eps, "nonfinite": self.nonfinite or None,
                "shape": self.shape,
                "when": {k: list(v) for k, v in self.when} or None}


def _version_tuple(v: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", v.split("+")[0])[:3])


def version_in(version: str, spec: str) -> bool:
    """``2.13.0+cpu`` in ``>=2.13,<2.14`` (comma-separated comparisons)."""
    ops = {">=": "__ge__", "<=": "__le__", "==": "__eq__", ">": "__gt__", "<": "__lt__",
           "!=": "__ne__"}
    have = _version_tuple(version)
    for clause in spec.split(","):
        m = re.fullmatch(r"\s*(>=|<=|==|!=|>|<)\s*([\d.]+)\s*", clause)
        if not m:
            raise DivergenceFileError(f"bad version clause {clause!r} in {spec!r}")
        want = _version_tuple(m.group(2))
        n = len(want)
        if not getattr(have[:n], ops[m.group(1)])(want):
            return False
    return True


def _tuple(entry: dict[str, Any], key: str, where: str) -> tuple[str, ...] | None:
    v = entry.get(key)
    if v is None:
        return None
    if isinstance(v, str):
        v = [v]
    if not (isinstance(v, list) and all(isinstance(s, str) for s in v)):
        raise DivergenceFileError(f"{where}: {key} must be a string or a list of strings")
    return tuple(v)


def _parse_entry(entry: Any, where: str) -> Divergence:
    if not isinstance(entry, dict):
        raise DivergenceFileError(f"{where}: each [[divergence]] must be a table")
    unknown = set(entry) - FIELDS
    if unknown:
        raise DivergenceFileError(f"{where}: unknown field(s) {sorted(unknown)}")
    for key in ("id", "ops", "category", "reason"):
        if not isinstance(entry.get(key), str) or not entry[key].strip():
            raise DivergenceFileError(f"{where}: missing or empty {key!r}")
    if entry["category"] not in CATEGORIES:
        raise DivergenceFileError(
            f"{where}: category {entry['category']!r} not one of {', '.join(CATEGORIES)}")
    if entry.get("versions") is not None:
        version_in("0", entry["versions"])  # validates the syntax now, not mid-run
    max_ratio = entry.get("max_ratio")
    by_dtype: tuple[tuple[str, float], ...] = ()
    if isinstance(max_ratio, dict):
        by_dtype = _ratio_table(max_ratio, _tuple(entry, "dtypes", where), where)
        max_ratio = None
    elif max_ratio is not None and not _is_ceiling(max_ratio):
        raise DivergenceFileError(f"{where}: max_ratio must be a number >= 1 (a ratio ceiling)"
                                  " or a table of them per dtype")
    raises = entry.get("raises")
    if raises is not None:
        try:
            re.compile(raises)
        except (re.error, TypeError) as exc:
            raise DivergenceFileError(f"{where}: raises must be a regex: {exc}") from exc
    max_abs = entry.get("max_abs_eps")
    abs_by_dtype: tuple[tuple[str, float], ...] = ()
    if isinstance(max_abs, dict):
        abs_by_dtype = _ratio_table(max_abs, _tuple(entry, "dtypes", where), where)
        max_abs = None
    elif max_abs is not None and not _is_ceiling(max_abs):
        raise DivergenceFileError(f"{where}: max_abs_eps must be a number >= 1 (of eps) or a "
                                  "table of them per dtype")
    for key in ("shape",):
        if entry.get(key) is not None:
            try:
                re.compile(entry[key])
            except (re.error, TypeError) as exc:
                raise DivergenceFileError(f"{where}: {key} must be a regex: {exc}") from exc
    when = entry.get("when", {})
    if not isinstance(when, dict):
        raise DivergenceFileError(f"{where}: when must be a table of fact = value(s)")
    return Divergence(
        id=entry["id"], ops=entry["ops"], category=entry["category"], reason=entry["reason"],
        link=entry.get("link"), modes=_tuple(entry, "modes", where),
        dtypes=_tuple(entry, "dtypes", where), devices=_tuple(entry, "devices", where),
        versions=entry.get("versions"), strict=bool(entry.get("strict", True)),
        max_ratio=None if max_ratio is None else float(max_ratio), raises=raises,
        when=tuple(sorted((str(k), _tuple(when, k, where) or ()) for k in when)),
        ratio_by_dtype=by_dtype, nonfinite=bool(entry.get("nonfinite", False)),
        max_abs_eps=None if max_abs is None else float(max_abs), shape=entry.get("shape"),
        abs_by_dtype=abs_by_dtype,
    )


def _is_ceiling(v: Any) -> bool:
    return not isinstance(v, bool) and isinstance(v, (int, float)) and v >= 1


def _ratio_table(table: dict[str, Any], dtypes: tuple[str, ...] | None,
                 where: str) -> tuple[tuple[str, float], ...]:
    """A per-dtype ceiling table must name every dtype the entry covers, and only those."""
    covered = set(dtypes or DTYPES)
    if set(table) != covered or not all(_is_ceiling(v) for v in table.values()):
        raise DivergenceFileError(
            f"{where}: a max_ratio / max_abs_eps table needs a number >= 1 for each of its dtypes "
            f"({', '.join(sorted(covered))}), got {sorted(table)}")
    return tuple((d, float(table[d])) for d in DTYPES if d in table)


def load(path: Path) -> list[Divergence]:
    """Parse and validate one divergence file; any problem is one DivergenceFileError line."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise DivergenceFileError(f"{path}: {exc}") from exc
    unknown = set(data) - {"divergence"}
    if unknown:
        raise DivergenceFileError(f"{path}: unknown top-level key(s) {sorted(unknown)}")
    entries = [_parse_entry(e, f"{path} [[divergence]] #{i + 1}")
               for i, e in enumerate(data.get("divergence", []))]
    seen: set[str] = set()
    for d in entries:
        if d.id in seen:
            raise DivergenceFileError(f"{path}: duplicate divergence id {d.id!r}")
        seen.add(d.id)
    return entries


def builtin_paths(backend: str) -> list[Path]:
    """The built-in files of a backend, one per family (``torch/normalization.toml``)."""
    return sorted((Path(__file__).parent / "divergences" / backend).glob("*.toml"))


def load_all(paths: list[Path]) -> list[Divergence]:
    """Every entry of several files; an id may appear once across all of them."""
    entries: list[Divergence] = []
    where: dict[str, Path] = {}
    for path in paths:
        for d in load(path):
            if d.id in where:
                raise DivergenceFileError(
                    f"{path}: divergence id {d.id!r} is already defined in {where[d.id]}")
            where[d.id] = path
            entries.append(d)
    return entries


def find(entries: list[Divergence], spec_id: str, mode: str, dtype: str, device: str,
         version: str, facts: dict[str, str] | None = None) -> Divergence | None:
    for d in entries:
        if d.matches(spec_id, mode, dtype, device, version, facts):
            return d.for_dtype(dtype)
    return None

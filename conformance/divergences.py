"""Known divergences as data: ``conformance/divergences/<backend>.toml``.

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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CATEGORIES = ("convention", "precision", "bug", "unsupported")
FIELDS = {"id", "ops", "modes", "dtypes", "devices", "category", "reason", "link", "versions",
          "strict"}


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

    def matches(self, spec_id: str, mode: str, dtype: str, device: str, version: str) -> bool:
        return (
            (fnmatch.fnmatchcase(spec_id, self.ops)
             or fnmatch.fnmatchcase(spec_id.split("/")[0], self.ops))
            and (self.modes is None or mode in self.modes)
            and (self.dtypes is None or dtype in self.dtypes)
            and self.applies_to(device, version)
        )

    def applies_to(self, device: str, version: str) -> bool:
        """Whether the entry is about this device and framework version at all."""
        return ((self.devices is None or device.split(":")[0] in self.devices)
                and (self.versions is None or version_in(version, self.versions)))

    def as_record(self) -> dict[str, Any]:
        return {"id": self.id, "category": self.category, "reason": self.reason, "link": self.link}


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
    return Divergence(
        id=entry["id"], ops=entry["ops"], category=entry["category"], reason=entry["reason"],
        link=entry.get("link"), modes=_tuple(entry, "modes", where),
        dtypes=_tuple(entry, "dtypes", where), devices=_tuple(entry, "devices", where),
        versions=entry.get("versions"), strict=bool(entry.get("strict", True)),
    )


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


def builtin_path(backend: str) -> Path:
    return Path(__file__).parent / "divergences" / f"{backend}.toml"


def find(entries: list[Divergence], spec_id: str, mode: str, dtype: str, device: str,
         version: str) -> Divergence | None:
    for d in entries:
        if d.matches(spec_id, mode, dtype, device, version):
            return d
    return None

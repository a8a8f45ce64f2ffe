"""The catalog (``catalog.txt``: one id per line, ``family.name``) and the family names.

A catalog family has one module name, used everywhere: ``oracle/<module>.py``,
``conformance/specs/<module>.py``, ``adapters/<framework>/<module>.py``,
``conformance/divergences/<backend>/<module>.toml`` and ``tests/test_oracle_<module>*.py``
(a module may be a package when it is large). ``tests/test_layout.py`` fails when an op's
pieces sit under different names.
"""

from __future__ import annotations

from pathlib import Path

CATALOG = Path(__file__).with_name("catalog.txt")

# catalog family prefix -> the module name its pieces live under
FAMILY_MODULES = {
    "act": "activations",
    "loss": "losses",
    "nn": "dense",
    "norm": "normalization",
    "pool": "pooling",
    "reg": "regularization",
    "aug": "augmentation",
    "optim": "optimizers",
    "sched": "schedules",
    "ad": "autodiff",
    "conv": "conv",
    "block": "blocks",
    "arch": "architectures",
    "rnn": "rnn",
    "attn": "attention",
    "graph": "graph",
}


def catalog_ids() -> list[str]:
    return [line.strip() for line in CATALOG.read_text().splitlines() if line.strip()]


def family(op: str) -> str:
    """The catalog family of an op or spec id: ``norm`` for ``norm.lrn/nchw``."""
    return op.split(".")[0]


def family_module(op: str) -> str:
    """The module name of an op's family: ``normalization`` for ``norm.lrn/nchw``."""
    fam = family(op)
    if fam not in FAMILY_MODULES:
        raise KeyError(f"{op!r}: unknown catalog family {fam!r}")
    return FAMILY_MODULES[fam]

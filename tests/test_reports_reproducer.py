"""What a failure's standalone reproducer copies next to the mapping: its own module's
helpers, the framework-free ones of ``adapters._shared``, and the adapter methods it calls
or passes on through ``self.`` (no framework is imported: sources only)."""

from __future__ import annotations

from adapters.base import load_adapter_class
from reports import reproducer


def _mapping(backend: str, op: str):
    cls = load_adapter_class(backend)
    return cls, getattr(cls, cls.mapping(op).method)


def test_shared_helpers_are_copied_into_the_script():
    _, fn = _mapping("jax", "conv.conv_transpose2d")
    _, helpers = reproducer._dependencies(fn, {"self", "np"})
    text = "\n".join(helpers)
    assert "def as_tuples(" in text and "def as_tuple(" in text  # as_tuples calls as_tuple


def test_methods_passed_on_through_self_are_bound():
    cls, fn = _mapping("torch", "reg.total_loss")
    _, helpers, binds = reproducer._self_methods(cls(), fn, {"self", "np"})
    bound = {b.split(" = ")[0] for b in binds}
    assert {"self.l1", "self.l2", "self.l2_squared", "self.group"} <= bound
    assert any("def _group_squares(" in h for h in helpers)

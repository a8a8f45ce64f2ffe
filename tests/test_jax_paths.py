"""JAX's reverse and forward mode run under jax.jit with float hyper-parameters traced; a
mapping that cannot trace them (it hashes a float, or branches on it) falls back to the
floats compiled in, one that needs concrete arrays to eager, and gives the same values; the
record names the path. A function the framework refuses to compile is its failure under jit
and is not hidden by running it eagerly."""

import numpy as np
import pytest

pytest.importorskip("jax")

from adapters.base import implements  # noqa: E402
from adapters.jax import JaxAdapter  # noqa: E402
from adapters.jax._lazy import jax, jnp  # noqa: E402


class Paths(JaxAdapter):
    """act.leaky_relu three ways: traceable, hashing its slope, branching on it."""

    def __init__(self, how: str) -> None:
        super().__init__()
        self.how = how

    @implements("act.leaky_relu")
    def leaky(self, x, *, negative_slope):
        if self.how == "concrete" and bool(jnp.any(x > 100)):  # a branch on the values
            return x
        if self.how == "rejected" and isinstance(x, jax.core.Tracer):
            raise ValueError("The precision 'F16_F16_F32' is not supported on CPU")
        if self.how == "hash":
            slope = {negative_slope: negative_slope}[negative_slope]
        elif self.how == "branch":
            slope = negative_slope if negative_slope > 0 else 0.0
        else:
            slope = negative_slope
        return jnp.where(x > 0, x, slope * x)


X = np.array([-2.0, -0.5, 1.5])


@pytest.mark.parametrize(("how", "path"), [("plain", "jit"), ("hash", "jit (floats static)"),
                                           ("branch", "jit (floats static)"),
                                           ("concrete", "eager")])
def test_each_mapping_takes_the_most_compiled_path_it_can(how, path):
    adapter = Paths(how)
    adapter.setup()
    kwargs = {"negative_slope": 0.25}
    (grad,) = adapter.run_vjp("act.leaky_relu", [X], kwargs, [0], [np.ones(3)], "float64")
    assert adapter.last_path == path
    np.testing.assert_array_equal(grad, [0.25, 0.25, 1.0])
    (tan,) = adapter.run_jvp("act.leaky_relu", [X], kwargs, [0], [np.ones(3)], "float64")
    np.testing.assert_array_equal(tan, [0.25, 0.25, 1.0])


def test_a_function_the_framework_refuses_to_compile_fails_under_jit():
    adapter = Paths("rejected")
    adapter.setup()
    with pytest.raises(ValueError, match="F16_F16_F32"):
        adapter.run_vjp("act.leaky_relu", [X], {"negative_slope": 0.25}, [0], [np.ones(3)],
                        "float64")
    (value,) = adapter.run_forward("act.leaky_relu", [X], {"negative_slope": 0.25}, "float64")
    np.testing.assert_array_equal(value, [-0.5, -0.125, 1.5])  # eagerly it works


def test_release_drops_the_compiled_functions():
    """The runner calls release() after each test: a whole-registry run that kept every
    executable alive ran out of memory maps (vm.max_map_count) and segfaulted."""
    adapter = Paths("plain")
    adapter.setup()
    adapter.run_vjp("act.leaky_relu", [X], {"negative_slope": 0.25}, [0], [np.ones(3)],
                    "float64")
    assert adapter.__dict__.get("_jitted")
    adapter.release()
    assert not adapter.__dict__.get("_jitted")
    (grad,) = adapter.run_vjp("act.leaky_relu", [X], {"negative_slope": 0.25}, [0],
                              [np.ones(3)], "float64")
    np.testing.assert_array_equal(grad, [0.25, 0.25, 1.0])

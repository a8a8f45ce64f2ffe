"""JAX mappings of the ``optim`` family: optax gradient transformations, init once and
``update`` + ``apply_updates`` per step, every state leaf read back after each step.

Conventions mapped (docs/conventions/optimizers.md): optax's ``trace`` is torch's buffer
(v = lr * trace for the notes' velocity), its Nesterov stores the look-ahead point
(theta = p + mu lr trace); L2 weight decay is ``add_decayed_weights`` before the optimizer
(the gradient plus wd * theta), decoupled is ``adamw``; Adam's eps inside the root is
``eps_root`` with eps = 0. Forms optax has no transformation for (eps outside Adagrad's root,
epsilon-hat Adam, torch's dampening and first-step copy, the velocity under a changing lr,
L-BFGS' textbook or torch first step) are UNSUPPORTED, naming the variant optax implements.
Traceable under jax.jit with the float hyper-parameters traced (no Python test on them).

The test function's gradient (and Newton's Hessian and solve) and L-BFGS' update run under
jax.jit, as optax's own examples jit their update step: compiled once per shape, dtype and
static argument (the function kind, the memory size), where eager JAX would re-trace
jax.grad and optax's lax.scan bodies at every step.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from adapters.base import LazyModule, implements
from adapters.jax._lazy import jax, jnp, lax

optax = LazyModule("optax", extra="jax")

_SGD = {"learning_rate": "drawn: from lr", "momentum": "drawn",
        "nesterov": "fixed: False (optim.nag)",
        "accumulator_dtype": "fixed: None (the parameters' dtype)"}
_L2 = {"weight_decay": "drawn", "mask": "fixed: None (every parameter)"}
_ADAM = {"learning_rate": "drawn: from lr", "b1": "drawn", "b2": "drawn", "eps": "drawn",
         "eps_root": "fixed: 0 (optim.adam/eps_inside draws it)",
         "mu_dtype": "fixed: None (the parameters' dtype)",
         "nesterov": "not covered: NAdam is not in the catalog"}


def objective(x: Any, q: Any, a: Any, b: Any, c: Any, kind: str) -> Any:
    """f(x) = 1/2 (x - a)^T Q (x - a) + sum b phi(x - c) in jax.numpy
    (oracle/optimizers/objectives.py)."""
    z = x - c
    if kind == "softplus":
        phi = jax.nn.softplus(z)
    elif kind == "logcosh":
        phi = jnp.logaddexp(z, -z) - jnp.log(2.0).astype(x.dtype)
    else:
        phi = 0.25 * jnp.square(jnp.square(z))
    d = x - a
    return 0.5 * jnp.sum(d * (q @ d)) + jnp.sum(b * phi)


@functools.cache
def _gradient() -> Callable[..., Any]:
    """grad f(x; q, a, b, c), jitted once (its arrays are arguments, not constants)."""
    return jax.jit(jax.grad(objective), static_argnames="kind")


@functools.cache
def _newton_step() -> Callable[..., Any]:
    def step(x: Any, q: Any, a: Any, b: Any, c: Any, kind: str) -> Any:
        f = lambda z: objective(z, q, a, b, c, kind)  # noqa: E731
        return x - jnp.linalg.solve(jax.hessian(f)(x), jax.grad(f)(x))

    return jax.jit(step, static_argnames="kind")


@functools.cache
def _lbfgs_step() -> Callable[..., Any]:
    def step(g: Any, state: Any, params: Any, lr: Any, history: int) -> tuple[Any, Any]:
        tx = optax.lbfgs(learning_rate=lr, memory_size=history, linesearch=None)
        updates, state = tx.update(g, state, params)
        return optax.apply_updates(params, updates), state

    return jax.jit(step, static_argnames="history")


def require(name: str, value: Any, expected: Any) -> None:
    """A convention keyword this mapping does not compute (another variant's) is an error."""
    if value != expected:
        raise ValueError(f"this mapping computes {name}={expected!r}, got {value!r}")


def _leaf(state: Any, name: str) -> Any:
    return optax.tree.get(state, name)


def _stack(rows: list[tuple[Any, ...]]) -> tuple[Any, ...]:
    return tuple(jnp.stack(col) for col in zip(*rows))


def _run(tx: Any, params: Any, grads: Any, read: Callable[[Any, Any], tuple[Any, ...]]
         ) -> tuple[Any, ...]:
    """K updates on grads[k]; read(state, params) after each (params first in each row)."""
    state = tx.init(params)
    rows = []
    for k in range(grads.shape[0]):
        g = lax.dynamic_index_in_dim(grads, k, keepdims=False)
        updates, state = tx.update(g, state, params)
        params = optax.apply_updates(params, updates)
        rows.append(read(state, params))
    return _stack(rows)


def _run_on(tx: Any, problem: tuple[Any, ...], kind: str, steps: int,
            read: Callable[[Any, Any, int], tuple[Any, ...]]) -> tuple[Any, ...]:
    """``steps`` updates with jax.grad of the test function at the current parameters."""
    x0, *coefficients = problem
    state, params, rows = tx.init(x0), x0, []
    for k in range(steps):
        g = _gradient()(params, *coefficients, kind=kind)
        updates, state = tx.update(g, state, params)
        params = optax.apply_updates(params, updates)
        rows.append(read(state, params, k))
    return _stack(rows)


class OptimizerOps:
    UNSUPPORTED = {
        "optim.momentum/foreach": "a torch code path (multi-tensor kernels)",
        "optim.momentum/fused": "a torch code path (the fused kernel)",
        "optim.momentum/dampening": "optax.trace has no dampening (and no first-step copy)",
        "optim.momentum/lr_schedule": "optax applies the (scheduled) lr after trace: past "
                                      "learning rates never stay in the buffer; the form it "
                                      "computes is optim.momentum/buffer_lr_schedule",
        "optim.adagrad/eps_outside": "optax.adagrad (scale_by_rss) adds eps inside the root",
        "optim.adam/foreach": "a torch code path (multi-tensor kernels)",
        "optim.adam/fused": "a torch code path (the fused kernel)",
        "optim.adam/epsilon_hat": "optax adds eps after bias correction (and eps_root inside "
                                  "the corrected root); the epsilon-hat form is Keras'",
        "optim.lbfgs": "optax.lbfgs scales its first step by min(1, 1/||g||_2) "
                       "(optim.lbfgs/l2_first_step); the textbook H_0 = I step has no option",
        "optim.lbfgs/l1_first_step": "torch's form; optax scales the first step by the l2 norm",
    }

    # --- gradient descent and momentum ------------------------------------------------
    @implements("optim.sgd", native=("optax.sgd", "optax.add_decayed_weights"),
                params={**_SGD, "momentum": "fixed: None (optim.momentum)", **_L2})
    def sgd(self, params: Any, grads: Any, *, lr: float, weight_decay: float = 0.0) -> Any:
        tx = optax.chain(optax.add_decayed_weights(weight_decay), optax.sgd(lr))
        return _run(tx, params, grads, lambda st, p: (p,))

    @implements("optim.momentum", native="optax.sgd", params=_SGD)
    def momentum(self, params: Any, grads: Any, *, lr: float, momentum: float,
                 form: str = "velocity", dampening: float = 0.0) -> Any:
        """The notes' velocity is lr * trace (form "velocity"); the trace itself is torch's
        buffer (form "buffer")."""
        require("dampening", dampening, 0.0)
        tx = optax.sgd(lr, momentum=momentum)
        if form == "velocity":
            return _run(tx, params, grads, lambda st, p: (p, lr * _leaf(st, "trace")))
        return _run(tx, params, grads, lambda st, p: (p, _leaf(st, "trace")))

    @implements("optim.momentum/buffer_lr_schedule", native="optax.sgd",
                params={**_SGD, "learning_rate": "drawn: from lrs (lrs[count], a schedule)"})
    def momentum_buffer_lr_schedule(self, params: Any, grads: Any, lrs: Any, *,
                                    momentum: float, form: str = "buffer") -> Any:
        """learning_rate is a schedule: count -> lrs[count] (optax counts updates from 0)."""
        require("form", form, "buffer")
        tx = optax.sgd(lambda count: lrs[count], momentum=momentum)
        return _run(tx, params, grads, lambda st, p: (p, _leaf(st, "trace")))

    @implements("optim.nag", native="optax.sgd", params={**_SGD, "nesterov": "fixed: True"})
    def nag(self, x0: Any, q: Any, a: Any, b: Any, c: Any, *, kind: str, steps: int,
            lr: float, momentum: float, form: str = "lookahead") -> Any:
        """optax.sgd(nesterov=True) on f; the notes' (theta, v) = (p + mu lr tr, lr tr)."""
        tx = optax.sgd(lr, momentum=momentum, nesterov=True)
        problem = (x0, q, a, b, c)
        if form == "reformulated":
            return _run_on(tx, problem, kind, steps, lambda st, p, k: (p, _leaf(st, "trace")))

        def lookahead(st: Any, p: Any, k: int) -> tuple[Any, Any]:
            v = lr * _leaf(st, "trace")
            return p + momentum * v, v

        return _run_on(tx, problem, kind, steps, lookahead)

    # --- adaptive methods ----------------------------------------------------------------
    @implements("optim.adagrad", native="optax.adagrad",
                params={"learning_rate": "drawn: from lr",
                        "initial_accumulator_value": "drawn: from initial_accumulator",
                        "eps": "drawn"})
    def adagrad(self, params: Any, grads: Any, *, lr: float, eps: float,
                initial_accumulator: float = 0.1, eps_placement: str = "inside") -> Any:
        require("eps_placement", eps_placement, "inside")
        tx = optax.adagrad(lr, initial_accumulator_value=initial_accumulator, eps=eps)
        return _run(tx, params, grads, lambda st, p: (p, _leaf(st, "sum_of_squares")))

    @implements("optim.rmsprop", native="optax.rmsprop", params={
        "learning_rate": "drawn: from lr", "decay": "drawn: from rho", "eps": "drawn",
        "initial_scale": "fixed: 0 (E starts at 0 in every framework)",
        "eps_in_sqrt": "drawn: from eps_placement",
        "centered": "fixed: False (not in the catalog's RMSprop)",
        "momentum": "fixed: None (not in the catalog's RMSprop)",
        "nesterov": "fixed: False", "bias_correction": "fixed: False (torch and Keras have "
                                                         "none)"})
    def rmsprop(self, params: Any, grads: Any, *, lr: float, rho: float, eps: float,
                eps_placement: str = "inside") -> Any:
        tx = optax.rmsprop(lr, decay=rho, eps=eps, eps_in_sqrt=eps_placement == "inside")
        return _run(tx, params, grads, lambda st, p: (p, _leaf(st, "nu")))

    @implements("optim.adadelta", native="optax.adadelta", params={
        "learning_rate": "drawn: from lr", "rho": "drawn", "eps": "drawn",
        "weight_decay": "fixed: 0 (weight decay is checked on optim.sgd and optim.adam)",
        "weight_decay_mask": "fixed: None"})
    def adadelta(self, params: Any, grads: Any, *, rho: float, eps: float,
                 lr: float = 1.0) -> Any:
        """Always with an explicit learning rate: adadelta() without one ascends (0.2.8)."""
        tx = optax.adadelta(lr, rho=rho, eps=eps)
        return _run(tx, params, grads, lambda st, p: (p, _leaf(st, "e_g"), _leaf(st, "e_x")))

    @staticmethod
    def _adam_state(st: Any, p: Any) -> tuple[Any, ...]:
        return p, _leaf(st, "mu"), _leaf(st, "nu"), _leaf(st, "count")

    @implements("optim.adam", native=("optax.adam", "optax.add_decayed_weights"),
                params={**_ADAM, **_L2})
    def adam(self, params: Any, grads: Any, *, lr: float, b1: float, b2: float, eps: float,
             eps_mode: str = "outside", weight_decay: float = 0.0,
             weight_decay_mode: str = "l2") -> Any:
        """L2 weight decay: add_decayed_weights (g + wd theta) before Adam."""
        require("convention", (eps_mode, weight_decay_mode), ("outside", "l2"))
        tx = optax.chain(optax.add_decayed_weights(weight_decay),
                         optax.adam(lr, b1=b1, b2=b2, eps=eps))
        return _run(tx, params, grads, self._adam_state)

    @implements("optim.adam/decoupled", native="optax.adamw",
                params={**_ADAM, "weight_decay": "drawn", "mask": "fixed: None"})
    def adamw(self, params: Any, grads: Any, *, lr: float, b1: float, b2: float, eps: float,
              eps_mode: str = "outside", weight_decay: float = 0.0,
              weight_decay_mode: str = "decoupled") -> Any:
        require("convention", (eps_mode, weight_decay_mode), ("outside", "decoupled"))
        tx = optax.adamw(lr, b1=b1, b2=b2, eps=eps, weight_decay=weight_decay)
        return _run(tx, params, grads, self._adam_state)

    @implements("optim.adam/eps_inside", native="optax.adam",
                params={**_ADAM, "eps": "fixed: 0", "eps_root": "drawn: from eps"})
    def adam_eps_inside(self, params: Any, grads: Any, *, lr: float, b1: float, b2: float,
                        eps: float, eps_mode: str = "inside", weight_decay: float = 0.0,
                        weight_decay_mode: str = "l2") -> Any:
        """The notes' m' / sqrt(v' + eps): optax's eps_root, with its eps 0."""
        require("convention", (eps_mode, weight_decay), ("inside", 0.0))
        tx = optax.adam(lr, b1=b1, b2=b2, eps=0.0, eps_root=eps)
        return _run(tx, params, grads, self._adam_state)

    # --- second order --------------------------------------------------------------------
    @implements("optim.newton", composed=True,
                native=("jax.grad", "jax.hessian", "jax.numpy.linalg.solve"),
                params={"argnums": "fixed: 0 (x)", "has_aux": "fixed: False",
                        "holomorphic": "fixed: False", "allow_int": "fixed: False",
                        "reduce_axes": "fixed: ()"})
    def newton(self, x0: Any, q: Any, a: Any, b: Any, c: Any, *, kind: str,
               steps: int) -> Any:
        x, out = x0, []
        for _ in range(steps):
            x = _newton_step()(x, q, a, b, c, kind=kind)
            out.append(x)
        return (jnp.stack(out),)

    @implements("optim.lbfgs/l2_first_step", native="optax.lbfgs", params={
        "learning_rate": "drawn: from lr", "memory_size": "drawn: from history",
        "scale_init_precond": "fixed: True (gamma = s^T y / y^T y, the textbook H_0)",
        "linesearch": "fixed: None (a fixed step size, the catalog's L-BFGS)"})
    def lbfgs(self, x0: Any, q: Any, a: Any, b: Any, c: Any, *, kind: str, steps: int,
              lr: float, history: int, first_step: str = "l2",
              min_curvature: float | None = None, pair: str = "difference") -> Any:
        """optax keeps (s, y) in a ring buffer: after update u (1-based) the pairs
        j = 1 .. u-1 sit at slot (j - 1) % history; read back oldest first, zero-padded."""
        require("convention", (first_step, min_curvature, pair), ("l2", None, "difference"))
        def read(st: Any, p: Any, k: int) -> tuple[Any, ...]:
            count = min(k, history)  # pairs stored after update k + 1
            slots = [(j - 1) % history for j in range(k + 1 - count, k + 1)]
            pad = jnp.zeros_like(p, shape=(history - count, p.shape[0]))  # on p's device
            s_mem, y_mem = _leaf(st, "diff_params_memory"), _leaf(st, "diff_updates_memory")
            hist_s = jnp.concatenate([s_mem[jnp.asarray(slots, int)], pad]) if count else pad
            hist_y = jnp.concatenate([y_mem[jnp.asarray(slots, int)], pad]) if count else pad
            return p, hist_s, hist_y, jnp.asarray(count, p.dtype)

        state = optax.lbfgs(learning_rate=lr, memory_size=history, linesearch=None).init(x0)
        params, rows = x0, []
        for k in range(steps):
            g = _gradient()(params, q, a, b, c, kind=kind)
            params, state = _lbfgs_step()(g, state, params, lr, history=history)
            rows.append(read(state, params, k))
        return _stack(rows)

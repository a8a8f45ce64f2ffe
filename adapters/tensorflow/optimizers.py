"""TensorFlow mappings of the ``optim`` family: keras.optimizers stepping a Keras variable of
the tested dtype (``apply_gradients`` once per step), the slot variables read back after
every step by their names (``optimizer.variables``).

Conventions mapped (docs/conventions/optimizers.md): Keras keeps the notes' velocity with
the opposite sign (v_keras = mu v_keras - lr g, theta += v_keras), so v = -v_keras and torch's
buffer is -v_keras / lr; its Nesterov stores the look-ahead point. Its ``weight_decay`` is
decoupled (theta -= lr wd theta before the step), the same mathematics as L2 for plain SGD.
Forms Keras has no optimizer for (eps outside the root, Adam with eps after bias correction
or inside the corrected root, torch's dampening) are UNSUPPORTED; TensorFlow has no L-BFGS,
so the textbook form is composed from TF ops (``optim.lbfgs``), as is Newton.

Under tf.function (speed runs) a Keras variable may only be created on the first trace:
the variables and optimizer of a trajectory are then built once per traced signature (in
``tf.init_scope``) and reset to their initial values at each call (``_keras_state``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from adapters.base import implements
from adapters.tensorflow._lazy import keras, tf

_COMMON = {"clipnorm": "fixed: None", "clipvalue": "fixed: None",
           "global_clipnorm": "fixed: None", "use_ema": "fixed: False",
           "ema_momentum": "fixed: default (no EMA)",
           "ema_overwrite_frequency": "fixed: None", "loss_scale_factor": "fixed: None",
           "gradient_accumulation_steps": "fixed: None (one update per step)",
           "name": "fixed: default", "kwargs": "fixed: none"}
_NO_WD = "fixed: None (weight decay is checked on optim.sgd and optim.adam)"
# Built once per traced signature under tf.function (see the module docstring).
_GRAPH_STATE: dict[Any, Any] = {}


def require(name: str, value: Any, expected: Any) -> None:
    """A convention keyword this mapping does not compute (another variant's) is an error."""
    if value != expected:
        raise ValueError(f"this mapping computes {name}={expected!r}, got {value!r}")


def objective(x: Any, q: Any, a: Any, b: Any, c: Any, kind: str) -> Any:
    """f(x) = 1/2 (x - a)^T Q (x - a) + sum b phi(x - c) in TF ops
    (oracle/optimizers/objectives.py)."""
    z = x - c
    if kind == "softplus":
        phi = tf.math.softplus(z)
    elif kind == "logcosh":
        phi = tf.math.reduce_logsumexp(tf.stack([z, -z]), axis=0) - math.log(2.0)
    else:
        phi = 0.25 * tf.square(tf.square(z))
    d = x - a
    return 0.5 * tf.reduce_sum(d * tf.linalg.matvec(q, d)) + tf.reduce_sum(b * phi)


def _gradient(f: Callable[[Any], Any], x: Any) -> Any:
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = f(x)
    return tape.gradient(y, x)


def _keras_state(key: tuple, params: Any, make: Callable[[], Any]) -> tuple[Any, Any]:
    """(variable holding params, built optimizer) for one trajectory."""
    shape, dtype = tuple(params.shape), params.dtype.name

    def build() -> tuple[Any, Any, list[Any]]:
        var = keras.Variable(tf.zeros(shape, dtype), dtype=dtype)
        opt = make()
        opt.build([var])
        return var, opt, [tf.identity(v.value) for v in opt.variables]

    if tf.executing_eagerly():
        var, opt, _ = build()
    else:
        full_key = (key, shape, dtype)
        if full_key not in _GRAPH_STATE:
            with tf.init_scope():
                _GRAPH_STATE[full_key] = build()
        var, opt, initial = _GRAPH_STATE[full_key]
        for v, v0 in zip(opt.variables, initial):
            v.assign(v0)
    var.assign(params)
    return var, opt


def _slot(opt: Any, suffix: str) -> Any:
    (found,) = [v for v in opt.variables if v.path.endswith(suffix)]
    return found.value


def _run(opt: Any, var: Any, grads: Any, read: Callable[[Any, Any], tuple[Any, ...]]
         ) -> tuple[Any, ...]:
    rows = []
    for k in range(grads.shape[0]):
        opt.apply_gradients([(grads[k], var)])
        rows.append(tuple(tf.identity(t) for t in read(opt, var.value)))
    return tuple(tf.stack(col) for col in zip(*rows))


def _run_on(opt: Any, var: Any, f: Callable[[Any], Any], steps: int,
            read: Callable[[Any, Any], tuple[Any, ...]]) -> tuple[Any, ...]:
    rows = []
    for _ in range(steps):
        opt.apply_gradients([(_gradient(f, var.value), var)])
        rows.append(tuple(tf.identity(t) for t in read(opt, var.value)))
    return tuple(tf.stack(col) for col in zip(*rows))


def _per_step(lrs: Any) -> Any:
    """A LearningRateSchedule giving lrs[iteration] (Keras counts updates from 0)."""
    class PerStep(keras.optimizers.schedules.LearningRateSchedule):
        def __call__(self, step: Any) -> Any:
            return tf.gather(lrs, tf.cast(step, tf.int32))

    return PerStep()


class OptimizerOps:
    UNSUPPORTED = {
        "optim.momentum/foreach": "a torch code path (multi-tensor kernels)",
        "optim.momentum/fused": "a torch code path (the fused kernel)",
        "optim.momentum/dampening": "keras.optimizers.SGD has no dampening",
        "optim.momentum/buffer_lr_schedule": "Keras folds the lr into its velocity "
                                             "(v = mu v - lr_t g): the form it computes "
                                             "under a changing lr is "
                                             "optim.momentum/lr_schedule",
        "optim.adagrad/eps_outside": "keras.optimizers.Adagrad adds eps inside the root",
        "optim.rmsprop/eps_outside": "keras.optimizers.RMSprop adds eps inside the root",
        "optim.adam": "keras.optimizers.Adam adds epsilon to the uncorrected sqrt(v) (the "
                      "epsilon-hat form, optim.adam/epsilon_hat): no constant maps it onto "
                      "eps after bias correction",
        "optim.adam/foreach": "a torch code path (multi-tensor kernels)",
        "optim.adam/fused": "a torch code path (the fused kernel)",
        "optim.adam/decoupled": "keras.optimizers.AdamW is Adam with the epsilon-hat form: "
                                "optim.adam/epsilon_hat draws its decoupled weight decay",
        "optim.adam/eps_inside": "Keras' Adam has no eps inside the root",
        "optim.lbfgs/l1_first_step": "TensorFlow has no L-BFGS: the textbook form is "
                                     "composed (optim.lbfgs)",
        "optim.lbfgs/l2_first_step": "TensorFlow has no L-BFGS: the textbook form is "
                                     "composed (optim.lbfgs)",
    }

    # --- gradient descent and momentum ------------------------------------------------
    @implements("optim.sgd", native="keras.optimizers.SGD", params={
        **_COMMON, "learning_rate": "drawn: from lr", "momentum": "fixed: 0 (optim.momentum)",
        "nesterov": "fixed: False", "weight_decay": "drawn"})
    def sgd(self, params: Any, grads: Any, *, lr: float, weight_decay: float = 0.0) -> Any:
        """Keras' decoupled weight decay: the same mathematics as L2 for plain SGD."""
        var, opt = _keras_state(("sgd", lr, weight_decay), params, lambda: keras.optimizers.SGD(
            learning_rate=lr, weight_decay=weight_decay or None))
        return _run(opt, var, grads, lambda o, p: (p,))

    def _momentum(self, params: Any, grads: Any, lr: Any, momentum: float, form: str,
                  key: tuple) -> Any:
        var, opt = _keras_state(key, params, lambda: keras.optimizers.SGD(
            learning_rate=lr, momentum=momentum))
        if form == "velocity":
            return _run(opt, var, grads, lambda o, p: (p, -_slot(o, "_momentum")))
        return _run(opt, var, grads, lambda o, p: (p, -_slot(o, "_momentum") / lr))

    @implements("optim.momentum", native="keras.optimizers.SGD", params={
        **_COMMON, "learning_rate": "drawn: from lr", "momentum": "drawn",
        "nesterov": "fixed: False "
        "(optim.nag)", "weight_decay": _NO_WD})
    def momentum(self, params: Any, grads: Any, *, lr: float, momentum: float,
                 form: str = "velocity", dampening: float = 0.0) -> Any:
        """velocity = -momentum slot (form "velocity"), buffer = -slot / lr ("buffer")."""
        require("dampening", dampening, 0.0)
        return self._momentum(params, grads, lr, momentum, form,
                              ("momentum", lr, momentum))

    @implements("optim.momentum/lr_schedule", native="keras.optimizers.SGD", params={
        **_COMMON, "learning_rate": "drawn: from lrs (lrs[iteration], a schedule)",
        "momentum": "drawn", "nesterov": "fixed: False",
        "weight_decay": _NO_WD})
    def momentum_lr_schedule(self, params: Any, grads: Any, lrs: Any, *, momentum: float,
                             form: str = "velocity") -> Any:
        """learning_rate: a LearningRateSchedule returning lrs[iteration]."""
        require("form", form, "velocity")
        var = keras.Variable(params, dtype=params.dtype.name)
        opt = keras.optimizers.SGD(learning_rate=_per_step(lrs), momentum=momentum)
        opt.build([var])
        return _run(opt, var, grads, lambda o, p: (p, -_slot(o, "_momentum")))

    @implements("optim.nag", native="keras.optimizers.SGD", params={
        **_COMMON, "learning_rate": "drawn: from lr", "momentum": "drawn",
        "nesterov": "fixed: True",
        "weight_decay": _NO_WD})
    def nag(self, x0: Any, q: Any, a: Any, b: Any, c: Any, *, kind: str, steps: int,
            lr: float, momentum: float, form: str = "lookahead") -> Any:
        """SGD(nesterov=True) on f (GradientTape); Keras' slot is -lr times torch's buffer,
        so the notes' (theta, v) = (p - mu slot, -slot)."""
        var, opt = _keras_state(("nag", lr, momentum), x0, lambda: keras.optimizers.SGD(
            learning_rate=lr, momentum=momentum, nesterov=True))
        f = lambda x: objective(x, q, a, b, c, kind)  # noqa: E731
        if form == "reformulated":
            return _run_on(opt, var, f, steps, lambda o, p: (p, -_slot(o, "_momentum") / lr))

        def lookahead(o: Any, p: Any) -> tuple[Any, Any]:
            v = -_slot(o, "_momentum")
            return p + momentum * v, v

        return _run_on(opt, var, f, steps, lookahead)

    # --- adaptive methods ----------------------------------------------------------------
    @implements("optim.adagrad", native="keras.optimizers.Adagrad", params={
        **_COMMON, "learning_rate": "drawn: from lr",
        "initial_accumulator_value": "drawn: from initial_accumulator",
        "epsilon": "drawn: from eps", "weight_decay": _NO_WD})
    def adagrad(self, params: Any, grads: Any, *, lr: float, eps: float,
                initial_accumulator: float = 0.1, eps_placement: str = "inside") -> Any:
        require("eps_placement", eps_placement, "inside")
        var, opt = _keras_state(("adagrad", lr, eps, initial_accumulator), params,
                                lambda: keras.optimizers.Adagrad(
                                    learning_rate=lr, epsilon=eps,
                                    initial_accumulator_value=initial_accumulator))
        return _run(opt, var, grads, lambda o, p: (p, _slot(o, "_accumulator")))

    @implements("optim.rmsprop", native="keras.optimizers.RMSprop", params={
        **_COMMON, "learning_rate": "drawn: from lr", "rho": "drawn", "epsilon": "drawn: from eps",
        "momentum": "fixed: 0 (not in the catalog's RMSprop)",
        "centered": "fixed: False (not in the catalog's RMSprop)", "weight_decay": _NO_WD})
    def rmsprop(self, params: Any, grads: Any, *, lr: float, rho: float, eps: float,
                eps_placement: str = "inside") -> Any:
        require("eps_placement", eps_placement, "inside")
        var, opt = _keras_state(("rmsprop", lr, rho, eps), params,
                                lambda: keras.optimizers.RMSprop(learning_rate=lr, rho=rho,
                                                                 epsilon=eps))
        return _run(opt, var, grads, lambda o, p: (p, _slot(o, "_velocity")))

    @implements("optim.adadelta", native="keras.optimizers.Adadelta", params={
        **_COMMON, "learning_rate": "drawn: from lr", "rho": "drawn", "epsilon": "drawn: from eps",
        "weight_decay": _NO_WD})
    def adadelta(self, params: Any, grads: Any, *, rho: float, eps: float,
                 lr: float = 1.0) -> Any:
        var, opt = _keras_state(("adadelta", lr, rho, eps), params,
                                lambda: keras.optimizers.Adadelta(learning_rate=lr, rho=rho,
                                                                  epsilon=eps))
        return _run(opt, var, grads, lambda o, p: (
            p, _slot(o, "_accumulated_grad"), _slot(o, "_accumulated_delta_var")))

    @implements("optim.adam/epsilon_hat", native="keras.optimizers.Adam", params={
        **_COMMON, "learning_rate": "drawn: from lr", "beta_1": "drawn: from b1",
        "beta_2": "drawn: from b2",
        "epsilon": "drawn: from eps", "amsgrad": "not covered: not in the catalog",
        "weight_decay": "drawn"})
    def adam(self, params: Any, grads: Any, *, lr: float, b1: float, b2: float, eps: float,
             eps_mode: str = "hat", weight_decay: float = 0.0,
             weight_decay_mode: str = "decoupled") -> Any:
        """step = optimizer.iterations (Keras' local step is iterations + 1 during it)."""
        require("convention", (eps_mode, weight_decay_mode), ("hat", "decoupled"))
        var, opt = _keras_state(("adam", lr, b1, b2, eps, weight_decay), params,
                                lambda: keras.optimizers.Adam(
                                    learning_rate=lr, beta_1=b1, beta_2=b2, epsilon=eps,
                                    weight_decay=weight_decay or None))
        return _run(opt, var, grads, lambda o, p: (
            p, _slot(o, "_momentum"), _slot(o, "_velocity"), o.iterations.value))

    # --- second order (composed) --------------------------------------------------------
    @implements("optim.newton", composed=True,
                native=("tf.GradientTape", "tf.linalg.solve"),
                params={"persistent": "fixed: True (one gradient per Hessian row)",
                        "watch_accessed_variables": "fixed: True", "adjoint": "fixed: False",
                        "name": "fixed: None, an op name in the graph (no numeric effect)"})
    def newton(self, x0: Any, q: Any, a: Any, b: Any, c: Any, *, kind: str,
               steps: int) -> Any:
        """The Hessian by a persistent GradientTape around the gradient's tape, one row per
        gradient component (n is small; tape.jacobian's vectorized loop costs far more to
        build eagerly)."""
        f = lambda x: objective(x, q, a, b, c, kind)  # noqa: E731
        x, out = x0, []
        for _ in range(steps):
            with tf.GradientTape(persistent=True) as outer:
                outer.watch(x)
                g = _gradient(f, x)
                parts = [g[i] for i in range(x.shape[0])]
            h = tf.stack([outer.gradient(gi, x) for gi in parts])
            del outer
            x = x - tf.linalg.solve(h, g[:, None])[:, 0]
            out.append(x)
        return (tf.stack(out),)

    @implements("optim.lbfgs", composed=True, native=("tf.GradientTape",), params={
        "persistent": "fixed: False (default), one gradient per tape",
        "watch_accessed_variables": "fixed: True (default); x is a tensor, watched explicitly"})
    def lbfgs(self, x0: Any, q: Any, a: Any, b: Any, c: Any, *, kind: str, steps: int,
              lr: float, history: int, first_step: str = "identity",
              min_curvature: float | None = 0.0, pair: str = "step") -> Any:
        """The textbook L-BFGS (oracle/optimizers/second_order.py) in TF ops, the history a
        fixed (history, n) tensor oldest first: pairs with s^T y > 0 are stored (shifting
        the oldest out when full), rho = 0 on the empty rows, which the two loops pass
        through unchanged; gamma = s^T y / y^T y of the newest stored pair."""
        require("convention", (first_step, min_curvature, pair), ("identity", 0.0, "step"))
        f = lambda x: objective(x, q, a, b, c, kind)  # noqa: E731
        n, dt = x0.shape[0], x0.dtype
        hist_s = hist_y = tf.zeros((history, n), dt)
        rho = tf.zeros((history,), dt)
        count, gamma = tf.constant(0, tf.int32), tf.constant(1.0, dt)
        x, step, prev_g, rows = x0, None, None, []
        for t in range(steps):
            g = _gradient(f, x)
            if t > 0:
                y = g - prev_g
                ys = tf.reduce_sum(y * step)
                accept = ys > 0
                full = count >= history
                row = tf.one_hot(tf.minimum(count, history - 1), history, dtype=dt)[:, None]
                placed_s = hist_s * (1 - row) + row * step[None]
                placed_y = hist_y * (1 - row) + row * y[None]
                placed_r = rho * (1 - row[:, 0]) + row[:, 0] / ys
                shifted_s = tf.concat([hist_s[1:], step[None]], 0)
                shifted_y = tf.concat([hist_y[1:], y[None]], 0)
                shifted_r = tf.concat([rho[1:], [1 / ys]], 0)
                hist_s = tf.where(accept, tf.where(full, shifted_s, placed_s), hist_s)
                hist_y = tf.where(accept, tf.where(full, shifted_y, placed_y), hist_y)
                rho = tf.where(accept, tf.where(full, shifted_r, placed_r), rho)
                gamma = tf.where(accept, ys / tf.reduce_sum(y * y), gamma)
                count = tf.where(accept, tf.minimum(count + 1, history), count)
            r, alphas = g, []
            for i in reversed(range(history)):
                alpha = rho[i] * tf.reduce_sum(hist_s[i] * r)
                r = r - alpha * hist_y[i]
                alphas.append(alpha)
            r = gamma * r
            for i, alpha in zip(range(history), reversed(alphas)):
                beta = rho[i] * tf.reduce_sum(hist_y[i] * r)
                r = r + (alpha - beta) * hist_s[i]
            step = -lr * r
            prev_g, x = g, x + step
            rows.append((x, hist_s, hist_y, tf.cast(count, dt)))
        return tuple(tf.stack(col) for col in zip(*rows))

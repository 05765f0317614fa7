"""Training a network through Paddle's legacy static graph with oneDNN kernels: the fast CPU step.

Why: eager Paddle never runs oneDNN kernels on this CPU, and its reference Conv3D kernels reach
a few per cent of the machine's matrix-product rate. A static program whose convolution, pooling
and concatenation ops carry `use_mkldnn` runs forward + backward + update of the interactive
network ~2.5x faster than the eager step with the in-place AdamW (`benchmarks/bench_training.py`
prints both side by side). Only those ops: with the global oneDNN flag, or with oneDNN on the
element-wise ops, the executor fails ("could not reshape a memory descriptor", a null holder in
`elementwise_add_grad`), and PIR programs do not take the per-op attribute at all, so programs
are built and run under `OldIrGuard`.

Convolution biases that an instance norm follows are left out of the graph: the norm subtracts
each channel's mean, so such a bias changes nothing downstream and its gradient is zero; the
broadcast add and its gradient were a quarter of the step. Those biases keep the values they
had, so the exported model's format and function are unchanged.

The eager network stays the master copy for export and checkpoints: `load_weights` copies its
tensors in, `weights` copies the trained ones out. The optimiser is Paddle's static AdamW (the
slowdown that made the trainer avoid the eager AdamW is an eager-mode effect; in the static
program the update is under 2 % of the step) with global-norm clipping; its state is read and
written in `InPlaceAdamW`'s format, so checkpoints move between the two engines.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Sequence

import numpy as np

from segmentation_core.training.optim import STEP_KEY

# the ops given oneDNN kernels (forward and gradient); see the module docstring for the others
ONEDNN_OPS = frozenset(
    {
        "conv3d",
        "conv3d_grad",
        "conv3d_transpose",
        "conv3d_transpose_grad",
        "pool3d",
        "pool3d_grad",
        "concat",
    }
)


@contextlib.contextmanager
def static_mode():
    """Paddle's legacy static mode for the duration (eager mode again afterwards)."""
    import paddle
    from paddle.pir_utils import OldIrGuard

    was_dynamic = paddle.in_dynamic_mode()
    with OldIrGuard():
        paddle.enable_static()
        try:
            yield
        finally:
            if was_dynamic:
                paddle.disable_static()


def reduce_sum(x, axis: Sequence[int] | None = None):
    """`paddle.sum` that also builds a legacy static graph: in Paddle 3.3 `paddle.sum` and
    `Variable.sum` call the PIR-only kernel binding even under `OldIrGuard`, so there the
    `reduce_sum` op is appended directly. Losses that both engines train use this."""
    import paddle

    if paddle.in_dynamic_mode() or paddle.framework.in_pir_mode():
        return paddle.sum(x, axis=None if axis is None else list(axis))
    attrs = {"dim": [0] if axis is None else list(axis), "keep_dim": False}
    return _legacy_op("reduce_sum", x, {**attrs, "reduce_all": axis is None})


def _legacy_op(op_type: str, x, attrs: dict | None = None):
    from paddle.base.layer_helper import LayerHelper

    helper = LayerHelper(op_type)
    out = helper.create_variable_for_type_inference(dtype=x.dtype)
    helper.append_op(type=op_type, inputs={"X": x}, outputs={"Out": out}, attrs=attrs or {})
    return out


def sigmoid(x):
    """`F.sigmoid` for both engines (the same PIR-only binding as `reduce_sum`)."""
    import paddle

    if paddle.in_dynamic_mode() or paddle.framework.in_pir_mode():
        return paddle.nn.functional.sigmoid(x)
    return _legacy_op("sigmoid", x)


def exp(x):
    """`paddle.exp` for both engines (the same PIR-only binding as `reduce_sum`)."""
    import paddle

    if paddle.in_dynamic_mode() or paddle.framework.in_pir_mode():
        return paddle.exp(x)
    return _legacy_op("exp", x)


def clip_by_global_norm(params_grads: list, clip_norm: float) -> list:
    """`paddle.nn.ClipGradByGlobalNorm` in the legacy graph (Paddle's own static clip calls the
    PIR-only `paddle.sqrt`): g * clip / max(||g||, clip), in float32."""
    from paddle.base.layer_helper import LayerHelper

    pairs = [(p, g) for p, g in params_grads if g is not None]
    helper = LayerHelper("global_norm_clip")
    squares = [_legacy_op("squared_l2_norm", g) for _, g in pairs]
    total = helper.create_variable_for_type_inference(dtype=squares[0].dtype)
    helper.append_op(type="sum", inputs={"X": squares}, outputs={"Out": total})
    norm = _legacy_op("sqrt", total)
    limit = helper.create_variable_for_type_inference(dtype=norm.dtype)
    helper.append_op(
        type="fill_constant",
        outputs={"Out": limit},
        attrs={"shape": [1], "dtype": limit.dtype, "value": float(clip_norm)},
    )
    larger = helper.create_variable_for_type_inference(dtype=norm.dtype)
    helper.append_op(
        type="elementwise_max", inputs={"X": limit, "Y": norm}, outputs={"Out": larger}
    )
    scale = limit / larger
    return [(p, g * scale) for p, g in pairs]


def drop_normalised_biases(net) -> list[str]:
    """Detach the biases of convolutions that an InstanceNorm directly follows (see the module
    docstring); returns their structured names."""
    from paddle import nn

    dropped = []
    for prefix, layer in net.named_sublayers(include_self=True):
        if not isinstance(layer, nn.Sequential):
            continue
        children = list(layer.named_children())
        for (name, conv), (_, nxt) in zip(children, children[1:]):
            if isinstance(conv, (nn.Conv3D, nn.Conv2D)) and isinstance(
                nxt, (nn.InstanceNorm3D, nn.InstanceNorm2D)
            ):
                if conv.bias is not None:
                    conv.bias = None
                    dropped.append(f"{prefix}.{name}.bias" if prefix else f"{name}.bias")
    return dropped


class StaticGraphTrainer:
    """One network's training step and forward pass as static programs in a private scope.

    `make_net()` builds the network (called once, in static mode); `feeds` names the inputs as
    {name: (shape, dtype)} with -1 for a free dimension and "x" the network's input;
    `loss_fn(outputs, feed_vars)` builds the scalar loss from the training-mode outputs.
    `trainable(net)` returns the parameters to train (the others are frozen), default all.
    """

    def __init__(
        self,
        make_net: Callable[[], object],
        feeds: dict[str, tuple[Sequence[int], str]],
        loss_fn: Callable[[object, dict], object],
        *,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        clip_norm: float | None = None,
        trainable: Callable[[object], list] | None = None,
    ) -> None:
        import paddle
        from paddle.utils import unique_name

        self.paddle = paddle
        self.place = paddle.CPUPlace()
        self.scope = paddle.static.Scope()
        with static_mode():  # legacy programs (made outside the guard they would be PIR's)
            self.main = paddle.static.Program()
            startup = paddle.static.Program()
        with static_mode(), unique_name.guard(), paddle.static.program_guard(self.main, startup):
            self.net = make_net()
            self.dropped = drop_normalised_biases(self.net)
            self.net.train()
            vars_ = {
                name: paddle.static.data(name, list(shape), dtype)
                for name, (shape, dtype) in feeds.items()
            }
            outputs = self.net(vars_["x"])
            first = outputs[0] if isinstance(outputs, (list, tuple)) else outputs
            self.test_prog = self.main.clone(for_test=True)
            self.loss = loss_fn(outputs, vars_)
            params = trainable(self.net) if trainable is not None else self.net.parameters()
            self.params = [p for p in params if not p.stop_gradient]
            self.opt = paddle.optimizer.AdamW(
                learning_rate=lr,
                parameters=self.params,
                weight_decay=weight_decay,
                apply_decay_param_fun=lambda name: True,
            )
            grads = paddle.static.append_backward(self.loss, parameter_list=self.params)
            # a parameter the loss does not reach (an unsupervised head) gets no update at all
            grads = [(p, g) for p, g in grads if g is not None]
            self.params = [p for p, _ in grads]
            if clip_norm:
                grads = clip_by_global_norm(grads, clip_norm)
            self.opt.apply_gradients(grads)
            self.lr_name = self.opt._global_learning_rate().name
        self.output = first
        self.exe = paddle.static.Executor(self.place)
        with static_mode(), paddle.static.scope_guard(self.scope):
            self.exe.run(startup)
        for prog in (self.main, self.test_prog):
            for op in prog.global_block().ops:
                if op.has_attr("use_mkldnn"):
                    op._set_attr("use_mkldnn", op.type in ONEDNN_OPS)
        self.var_of = {k: v.name for k, v in self.net.state_dict().items()}
        self.beta1, self.beta2 = 0.9, 0.999  # Paddle's AdamW defaults, as InPlaceAdamW's
        # updates taken, counted here: beta1^(t+1) in float32 stops falling near t = 966 (the
        # smallest denormal), so the count cannot be read back from Paddle's accumulators
        self.t = 0

    # --- running ---------------------------------------------------------------------------------
    def _run(self, prog, feed: dict, fetch: list):
        with static_mode(), self.paddle.static.scope_guard(self.scope):
            return self.exe.run(prog, feed=feed, fetch_list=fetch)

    def step(self, feed: dict[str, np.ndarray], lr: float) -> float:
        """One optimiser step on `feed`; returns the loss."""
        self._tensor(self.lr_name).set(
            np.full(self._shape(self.lr_name), lr, np.float32), self.place
        )
        (loss,) = self._run(self.main, feed, [self.loss])
        self.t += 1
        return float(np.asarray(loss).reshape(-1)[0])

    def predict(self, x: np.ndarray) -> np.ndarray:
        """The full-resolution output for input `x` (no gradient, no update)."""
        (out,) = self._run(
            self.test_prog, {"x": np.ascontiguousarray(x, np.float32)}, [self.output]
        )
        return np.asarray(out)

    # --- weights -------------------------------------------------------------------------------
    def _tensor(self, var_name: str):
        return self.scope.find_var(var_name).get_tensor()

    def _shape(self, var_name: str) -> tuple[int, ...]:
        return tuple(np.asarray(self._tensor(var_name)).shape)

    def weights(self) -> dict[str, np.ndarray]:
        """The graph's weights by structured name (the dropped biases are not in it)."""
        return {k: np.array(self._tensor(v)) for k, v in self.var_of.items()}

    def load_weights(self, weights: dict) -> None:
        """Copy `weights` (structured name -> array or tensor) in; every graph weight is needed."""
        for key, var in self.var_of.items():
            if key not in weights:
                raise ValueError(f"no weights for {key!r}")
            value = np.asarray(getattr(weights[key], "numpy", lambda k=key: weights[k])())
            if value.shape != self._shape(var):
                raise ValueError(f"{key}: shape {value.shape} is not {self._shape(var)}")
            self._tensor(var).set(np.ascontiguousarray(value, np.float32), self.place)

    # --- optimiser state, in InPlaceAdamW's format (keys by the graph's parameter names) ---------
    @property
    def param_names(self) -> list[str]:
        return [p.name for p in self.params]

    def _acc(self, kind: str, param) -> str:
        return self.opt._accumulators[kind][param.name].name

    def optimizer_state(self) -> dict:
        out: dict = {}
        for p in self.params:
            out[f"{p.name}_moment1_0"] = np.array(self._tensor(self._acc("moment1", p)))
            out[f"{p.name}_moment2_0"] = np.array(self._tensor(self._acc("moment2", p)))
        out[STEP_KEY] = self.t
        return out

    def load_optimizer_state(self, state: dict) -> None:
        """Moments and step from `state` (InPlaceAdamW's or Paddle's AdamW keys)."""
        for p in self.params:
            for kind, suffix in (("moment1", "moment1_0"), ("moment2", "moment2_0")):
                key = f"{p.name}_{suffix}"
                if key not in state:
                    raise ValueError(f"optimizer state has no {key!r}")
                value = np.asarray(getattr(state[key], "numpy", lambda k=key: state[k])())
                var = self._acc(kind, p)
                if value.shape != self._shape(var):
                    raise ValueError(f"{key}: shape {value.shape} is not {self._shape(var)}")
                self._tensor(var).set(np.ascontiguousarray(value, np.float32), self.place)
        if STEP_KEY in state:
            t = int(state[STEP_KEY])
        else:
            key = f"{self.params[0].name}_beta1_pow_acc_0" if self.params else ""
            if key not in state:
                raise ValueError("optimizer state has no step count")
            pow1 = float(np.asarray(getattr(state[key], "numpy", lambda: state[key])()).ravel()[0])
            t = max(0, round(math.log(pow1) / math.log(self.beta1)) - 1)
        self.t = t
        # float32 products step by step, as Paddle's accumulators
        b1, b2 = np.float32(self.beta1), np.float32(self.beta2)
        for _ in range(t):
            b1, b2 = b1 * np.float32(self.beta1), b2 * np.float32(self.beta2)
        for p in self.params:
            for kind, value in (("beta1_pow_acc", b1), ("beta2_pow_acc", b2)):
                var = self._acc(kind, p)
                self._tensor(var).set(np.full(self._shape(var), value, np.float32), self.place)


# --- the eager master copies (network + InPlaceAdamW) and the graph --------------------------------
def moments_renamed(state: dict, mapping: dict[str, str]) -> dict:
    """The step count and the moments of the parameters `mapping` names, renamed by it (exact
    names: Paddle's generated names of two networks can coincide for different layers)."""
    out = {STEP_KEY: state[STEP_KEY]}
    for old, new in mapping.items():
        for suffix in ("_moment1_0", "_moment2_0"):
            if old + suffix in state:
                out[new + suffix] = state[old + suffix]
    return out


def _eager_to_graph_names(graph: StaticGraphTrainer, net) -> dict[str, str]:
    eager = net.state_dict()
    return {eager[k].name: var for k, var in graph.var_of.items()}


def load_from_eager(graph: StaticGraphTrainer, net, opt) -> None:
    """The eager network's weights and the optimiser's moments and step into the graph."""
    graph.load_weights(net.state_dict())
    graph.load_optimizer_state(moments_renamed(opt.state_dict(), _eager_to_graph_names(graph, net)))


def copy_weights_to_eager(graph: StaticGraphTrainer, net) -> None:
    """The graph's weights into the eager network (the biases left out of the graph stay)."""
    eager = net.state_dict()
    for key, value in graph.weights().items():
        eager[key].set_value(value)


def copy_to_eager(graph: StaticGraphTrainer, net, opt) -> None:
    """Weights, moments and step back into the eager network and optimiser, which checkpoints
    and exports read (the moments of the biases left out of the graph stay as they were)."""
    copy_weights_to_eager(graph, net)
    back = {v: k for k, v in _eager_to_graph_names(graph, net).items()}
    state = dict(opt.state_dict())
    state.update(moments_renamed(graph.optimizer_state(), back))
    opt.set_state_dict(state)

"""`eager.autograd.Function`: a differentiable op written as a forward and a backward.

As in PyTorch, subclass it with two static methods and call `apply`:

>>> import eager
>>> class Cube(eager.autograd.Function):
...     @staticmethod
...     def forward(ctx, x):
...         ctx.save_for_backward(x)
...         return x ** 3
...     @staticmethod
...     def backward(ctx, grad):
...         (x,) = ctx.saved_tensors
...         return grad * 3 * x ** 2
>>> x = eager.tensor([1.0, 2.0], requires_grad=True)
>>> Cube.apply(x).sum().backward(); x.grad
tensor([ 3., 12.])

`forward` runs with gradient recording off; its result gets one autograd node whose rule
calls `backward`. Both are ordinary eager ops, so a tracer (and `@jit`) records them like
any other code. A forward that returns a tuple gets a node per tensor output; each calls
`backward` with that output's gradient and zeros for the others, which sums to the full
gradient since a backward is linear in its incoming gradients.
"""
from __future__ import annotations

from typing import Any

from eager.autograd import grad_mode
from eager.autograd.node import record
from eager.tensor import Tensor
from kernels.dtypes import is_floating
from kernels.errors import AutogradError

__all__ = ["Function", "FunctionCtx"]


class FunctionCtx:
    """What `forward` hands to `backward`: saved tensors, `needs_input_grad`, and any
    attribute the forward sets (`ctx.alpha = 0.1`)."""

    def __init__(self, name: str, needs_input_grad: tuple[bool, ...]) -> None:
        self._name = name
        self.needs_input_grad = needs_input_grad
        self._saved: tuple = ()
        self._versions: tuple = ()
        self._non_differentiable: set[int] = set()
        self.materialize_grads = True

    def save_for_backward(self, *tensors: Tensor | None) -> None:
        """Keep tensors (or None) for backward; read them back from `saved_tensors`."""
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise AutogradError(f"{self._name}.save_for_backward: argument {i} is a "
                                    f"{type(t).__name__}; save tensors here and other values "
                                    "as attributes of ctx")
        self._saved = tensors
        self._versions = tuple(None if t is None else _version(t) for t in tensors)

    @property
    def saved_tensors(self) -> tuple:
        """The tensors given to `save_for_backward`, checked for in-place changes since."""
        for i, (t, v) in enumerate(zip(self._saved, self._versions)):
            if t is not None and _version(t) != v:
                raise AutogradError(
                    f"{self._name}.backward: saved tensor {i} (shape {t.shape}) was modified "
                    f"by an in-place operation after it was saved (version {v} -> "
                    f"{_version(t)}); clone() it before changing it")
        return self._saved

    def mark_non_differentiable(self, *outputs: Tensor) -> None:
        """Outputs (such as indices) that get no gradient and do not require grad."""
        self._non_differentiable.update(id(t) for t in outputs)

    def set_materialize_grads(self, value: bool) -> None:
        """Whether backward gets zeros (True, the default) or None for unused outputs."""
        self.materialize_grads = bool(value)


def _version(t: Tensor) -> int:
    return t._version if t._base is None else t._base._version


class _FunctionOp:
    """What an autograd node needs of its op, for one output of one `apply` call."""

    __slots__ = ("backward", "name", "saves")

    def __init__(self, name: str, rule) -> None:
        self.name, self.backward, self.saves = name, rule, ()


class Function:
    """Base class of custom differentiable ops: define `forward(ctx, *args)` and
    `backward(ctx, *grad_outputs)` as static methods, call `YourFunction.apply(*args)`.

    `backward` returns one gradient per argument of forward (None for arguments that
    need none, such as non-tensors); `ctx.needs_input_grad[i]` says which are wanted.
    """

    @staticmethod
    def forward(ctx: FunctionCtx, *args: Any) -> Any:
        """The output(s) computed from the arguments; override it."""
        raise NotImplementedError("Function subclasses must define a static forward(ctx, ...)")

    @staticmethod
    def backward(ctx: FunctionCtx, *grad_outputs: Tensor) -> Any:
        """Gradients of the inputs from those of the outputs; override it."""
        raise NotImplementedError("Function subclasses must define a static backward(ctx, "
                                  "...)")

    @classmethod
    def apply(cls, *args: Any) -> Any:
        """Run forward on `args`, connecting its output(s) to args in the autograd graph."""
        name = cls.__name__
        needs = tuple(isinstance(a, Tensor) and a._requires_grad for a in args)
        ctx = FunctionCtx(name, needs)
        with grad_mode.set_grad_enabled(False):
            result = cls.forward(ctx, *args)
            single = not isinstance(result, tuple)
            outputs = [result] if single else list(result)
            inputs = {id(a) for a in args if isinstance(a, Tensor)}
            # A returned input (or the same tensor twice) needs its own tensor for the node.
            seen: set[int] = set()
            for i, out in enumerate(outputs):
                if isinstance(out, Tensor) and (id(out) in inputs or id(out) in seen):
                    outputs[i] = out.clone()
                if isinstance(outputs[i], Tensor):
                    seen.add(id(outputs[i]))
        if any(needs) and grad_mode.is_grad_enabled():
            _connect(cls, ctx, args, outputs)
        return outputs[0] if single else tuple(outputs)


def _connect(cls: type[Function], ctx: FunctionCtx, args: tuple, outputs: list) -> None:
    """Give each differentiable tensor output a node whose rule runs cls.backward."""
    tensor_outputs = [i for i, out in enumerate(outputs)
                      if isinstance(out, Tensor) and is_floating(out.dtype)
                      and id(out) not in ctx._non_differentiable]
    for position in tensor_outputs:
        node = record(_FunctionOp(cls.__name__, _rule(cls, ctx, outputs, position, len(args))),
                      args, {}, outputs[position])
        outputs[position]._requires_grad = True
        outputs[position]._node = node


def _rule(cls: type[Function], ctx: FunctionCtx, outputs: list, position: int, n_args: int):
    def backward(node, grad: Tensor, needs: list) -> tuple:
        from eager.creation import zeros_like

        grads = []
        for i, out in enumerate(outputs):
            if i == position:
                grads.append(grad)
            elif isinstance(out, Tensor) and ctx.materialize_grads:
                grads.append(zeros_like(out))
            else:
                grads.append(None)
        result = cls.backward(ctx, *grads)
        result = list(result) if isinstance(result, tuple) else [result]
        while len(result) > n_args and result[-1] is None:
            result.pop()
        if len(result) != n_args:
            raise AutogradError(f"{cls.__name__}.backward: returned {len(result)} gradients "
                                f"but forward took {n_args} arguments; return one per "
                                "argument (None where there is none)")
        for i, g in enumerate(result):
            if g is not None and not isinstance(g, Tensor):
                raise AutogradError(f"{cls.__name__}.backward: gradient {i} is a "
                                    f"{type(g).__name__}, expected a Tensor or None")
        return tuple(result)
    return backward

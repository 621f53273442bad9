"""Define-by-run autograd: nodes recorded by dispatch, rules per op, the backward engine."""
from eager.autograd.grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from eager.autograd.gradcheck import gradcheck

__all__ = [
    "Function",
    "FunctionCtx",
    "backward",
    "enable_grad",
    "grad",
    "gradcheck",
    "is_grad_enabled",
    "no_grad",
    "set_grad_enabled",
]


def __getattr__(name):
    # The engine and gradcheck import eager ops, which import dispatch, which imports this
    # package: load them on first use.
    if name in ("grad", "backward"):
        from eager.autograd import engine

        return getattr(engine, name)
    if name in ("Function", "FunctionCtx"):
        from eager.autograd import function

        return getattr(function, name)
    if name == "to_dot":
        from eager.autograd.picture import to_dot

        return to_dot
    raise AttributeError(f"module 'eager.autograd' has no attribute {name!r}")

"""In-place updates: `x += y`, `x[idx] = v`, `x.zero_()`, ... as a functional op plus a
write into x's buffer, so the tracer can record them as a write-back."""
from __future__ import annotations

import linecache
import os

import numpy as np

from eager.autograd import grad_mode
from eager.autograd.node import record as record_node
from eager.dispatch import apply, get_hook, user_frame, user_line_suffix
from eager.tensor import Tensor
from kernels import OPS
from kernels.errors import AutogradError, DTypeError, ShapeError


def inplace_update(target: Tensor, value: Tensor, op_name: str) -> Tensor:
    """Write `value` into `target`'s memory (and so into the base of a view); return target."""
    if value.shape != target.shape:
        raise ShapeError(f"{op_name}: result of shape {value.shape} cannot be written in place "
                         f"into a tensor of shape {target.shape}{user_line_suffix()}")
    if value.dtype != target.dtype and not np.can_cast(value.dtype, target.dtype, "same_kind"):
        raise DTypeError(f"{op_name}: result type {value.dtype.name} cannot be written in "
                         f"place into a {target.dtype.name} tensor{user_line_suffix()}")
    recording = grad_mode.is_grad_enabled() and (value._requires_grad or target._requires_grad)
    if recording:
        if target._node is None and target._requires_grad:
            raise AutogradError(
                f"{op_name}: a leaf tensor of shape {target.shape} that requires grad is used "
                f"in an in-place operation{user_line_suffix()}; wrap the update in "
                "`with eager.no_grad():` or use an out-of-place op")
        base = target._base
        if base is not None and base._node is None and base._requires_grad:
            raise AutogradError(
                f"{op_name}: a view of a leaf tensor of shape {base.shape} that requires "
                f"grad is used in an in-place operation{user_line_suffix()}; wrap the "
                "update in `with eager.no_grad():` or use an out-of-place op")
        if base is not None and not _covers_its_base(target):
            raise AutogradError(
                f"{op_name}: in-place update of a view while recording gradients is not "
                f"supported{user_line_suffix()}; clone() the view or use an out-of-place op")
    if recording and value._node is not None:
        _keep_overwritten_input(target, value._node)
    try:
        target._data[...] = value._data
    except ValueError as exc:
        raise ShapeError(f"{op_name}: cannot write into this tensor in place ({exc}); expanded "
                         f"tensors are read-only views, clone() them first") from None
    root = target if target._base is None else target._base
    root._version += 1
    if recording or grad_mode.is_grad_enabled():
        _note_writer(root, op_name, recording)
    if recording:
        # From now on the node that computed `value` produced `target`'s contents (or, for
        # a constant value, target no longer depends on anything).
        if value._node is not None:
            value._node.set_output(target)
        target._node = value._node
        target._requires_grad = value._node is not None
        if target._base is not None:
            _rebase(target._base, target)
    hook = get_hook()
    if hook is not None:
        hook.inplace(target, value)
    return target


def _covers_its_base(view: Tensor) -> bool:
    """Whether `view` is all of its base in the base's element order (a reshape of a
    contiguous tensor, as conv2d's output is): then writing the view rewrites the whole
    base, whose history becomes the view's reshaped back, and autograd can follow."""
    data, base = view._data, view._base._data
    return (data.size == base.size and data.dtype == base.dtype and data.flags.c_contiguous
            and base.flags.c_contiguous)


def _rebase(base: Tensor, view: Tensor) -> None:
    """After an in-place write through a view covering all of `base`, the base's values
    are the view's: record that as a reshape, so gradients reach the written value."""
    if view._node is None:
        base._node, base._requires_grad = None, False
        return
    base._node = record_node(OPS.reshape, (view,), {"shape": base.shape}, base)
    base._requires_grad = True


def _note_writer(root: Tensor, op_name: str, recording: bool) -> None:
    """Remember which in-place op (and, where gradients flow through it, which user line)
    made root's current version, so that backward's "modified by an in-place operation"
    error can name it. Finding the user's frame costs about as much as a small op, so it
    is looked up only when the write was recorded for autograd."""
    frame = user_frame() if recording else None
    root._written_by = (root._version, op_name,
                        None if frame is None else frame.f_code.co_filename,
                        None if frame is None else frame.f_lineno)


def written_by(x: Tensor) -> str:
    """"add_ (at file.py:12: source line)" for the in-place op that made x's current
    version, or "" when none was noted (it was written under no_grad, or never).

    >>> import eager
    >>> from eager.ops.inplace import written_by
    >>> x = eager.ones(2, requires_grad=True) * 1
    >>> _ = x.mul_(2)
    >>> written_by(x).startswith("mul_ (at ")
    True
    """
    root = x if x._base is None else x._base
    noted = getattr(root, "_written_by", None)
    if noted is None or noted[0] != root._version:
        return ""
    _, op_name, filename, lineno = noted
    if filename is None:
        return op_name
    line = linecache.getline(filename, lineno).strip()
    return f"{op_name} (at {os.path.basename(filename)}:{lineno}: {line})"


def _keep_overwritten_input(target: Tensor, node) -> None:
    """Before `target` is overwritten by the result of `node` (y.mul_(z) computes y * z
    and writes it into y), give the node a copy of target's old value wherever its
    backward reads it, so the gradient uses the value the op saw, as in PyTorch."""
    positions = [i for i, x in enumerate(node.inputs) if x is target]
    if not positions or not set(positions) & node.saved_positions(node.op.saves):
        return
    with grad_mode.set_grad_enabled(False):
        old = apply(OPS.copy, target)   # through dispatch, so a trace records it too
    old._node, old._requires_grad = target._node, target._requires_grad
    for i in positions:
        node.replace_input(i, old)

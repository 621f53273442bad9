"""Every user mistake raises a named error whose message names the op, the shapes, dtypes
or devices, and the user's source line (this file)."""
import re

import numpy as np
import pytest

import eager
from eager.tensor import wrap

A = eager.ones(3, 4)
B = eager.ones(5)
HERE = r"\(at test_errors\.py:\d+: "


def raises(kind, pattern):
    """pytest.raises for `kind` whose message matches pattern and names this file's line."""
    return pytest.raises(kind, match=re.compile(pattern + ".*" + HERE, re.DOTALL))


SHAPE_ERRORS = [
    (lambda: A + B, r"add: shapes \(3, 4\) and \(5,\) cannot be broadcast"),
    (lambda: eager.where(A > 0, A, B), r"where: shapes .*\(5,\) cannot be broadcast"),
    (lambda: A @ A, r"matmul: shapes \(3, 4\) and \(3, 4\) are not aligned \(4 != 3\)"),
    (lambda: A @ eager.tensor(1.0), r"matmul: both operands need at least 1 dim"),
    (lambda: A @ 2, r"matmul: both operands must be tensors"),
    (lambda: A.reshape(5, 2), (r"reshape: cannot reshape tensor of shape \(3, 4\) \(12 elements\)"
                              r" into shape \(5, 2\)")),
    (lambda: A.reshape(-1, 5), r"reshape: cannot reshape tensor of shape \(3, 4\)"),
    (lambda: A.reshape(-1, -1), r"reshape: only one dimension can be -1"),
    (lambda: A.permute(0, 0), r"permute: axes \(0, 0\) are not a permutation"),
    (lambda: A.expand(2, 4), r"expand: cannot expand shape \(3, 4\) to \(2, 4\)"),
    (lambda: eager.squeeze(A, 0), r"squeeze: cannot remove axis 0 of size 3"),
    (lambda: A.sum(axis=2), r"sum: axis 2 is out of range for a tensor with 2 dims"),
    (lambda: A.sum(axis=(0, 0)), r"sum: repeated axis in \(0, 0\)"),
    (lambda: eager.zeros(0).max(), r"max: cannot reduce over an empty axis of shape \(0,\)"),
    (lambda: eager.zeros(0).argmax(), r"argmax: cannot reduce over an empty axis"),
    (lambda: eager.cat([A, B]), r"concat: shapes \(3, 4\), \(5,\) differ outside axis 0"),
    (lambda: eager.cat([]), r"concat: expected a non-empty sequence"),
    (lambda: eager.stack([A, B]), r"stack: all tensors must have the same shape"),
    (lambda: A.split([1, 1]), r"split: sizes \[1, 1\] do not add up to 3"),
    (lambda: A.split(0), r"split: chunk size must be positive"),
    (lambda: A.chunk(0), r"chunk: number of chunks must be positive"),
    (lambda: A[3], r"slice: index 3 is out of bounds for axis 0 with size 3"),
    (lambda: A[0, 0, 0], r"index: too many indices for tensor of shape \(3, 4\)"),
    (lambda: A[[0, 7]], r"index\(float32\[3, 4\], int64\[2\]\) failed: IndexError: index 7"),
    (lambda: A[eager.ones(2, dtype=eager.bool)], (r"index: boolean mask of shape \(2,\) does "
                                                 r"not match the indexed dims \(3,\)")),
    (lambda: A[..., ...], r"index: an index can only have a single ellipsis"),
    (lambda: A.__setitem__(0, eager.ones(5)), (r"index_set: value of shape \(5,\) cannot be "
                                              r"broadcast to the indexed shape \(4,\)")),
    (lambda: A.gather(1, eager.tensor([0])), r"gather: index of shape \(1,\) must have as many"),
    (lambda: eager.ones(3).__iadd__(eager.ones(2, 3)), (r"add_: result of shape \(2, 3\) cannot "
                                                       r"be written in place")),
    (lambda: eager.ones(1).expand(3).__iadd__(1), r"add_: cannot write into this tensor"),
    (lambda: eager.arange(0, 1, 0), r"arange: step must not be zero"),
    (lambda: eager.zeros(-1), r"full: negative dimension in shape \(-1,\)"),
    (lambda: eager.pad(A, ((1, 1),)), r"pad: 1 \(before, after\) pairs for a tensor of shape"),
    (lambda: A.topk(7), r"topk: k=7 is out of range for dim 1 of size 4"),
    (lambda: A.flatten(3), r"flatten: axis 3 is out of range"),
    (lambda: A.unsqueeze(5), r"unsqueeze: axis 5 is out of range"),
    (lambda: A.transpose(0, 4), r"transpose: axis 4 is out of range"),
    (lambda: A.cumsum(dim=3), r"cumsum: axis 3 is out of range"),
    (lambda: A.max(dim=(0, 1)), r"max: dim must be one int \(for several axes use axis=\)"),
    (lambda: A.item(), r"item: only one-element tensors .* got shape \(3, 4\)"),
    (lambda: bool(A), (r"bool: the truth value of a tensor with 12 elements \(shape \(3, 4\)\) "
                      r"is ambiguous")),
]


@pytest.mark.parametrize("case", range(len(SHAPE_ERRORS)))
def test_shape_errors(case):
    fn, pattern = SHAPE_ERRORS[case]
    with raises(eager.ShapeError, pattern):
        fn()


DTYPE_ERRORS = [
    (lambda: eager.where(A, A, A), r"where: condition must be a bool tensor, got float32"),
    (lambda: eager.ones(2, 2, dtype=eager.bool) @ eager.ones(2, 2, dtype=eager.bool),
     r"matmul: bool tensors are not supported"),
    (lambda: eager.tensor([True]) - eager.tensor([True]), r"sub: dtype bool is not supported"),
    (lambda: eager.tensor([1], requires_grad=True), (r"requires_grad_: only floating tensors "
                                                    r"can require gradients, got int64")),
    (lambda: eager.zeros(2, dtype="complex256"), r"dtype: unsupported dtype complex256"),
    (lambda: eager.zeros(2, dtype="floaty"), r"dtype: unknown dtype 'floaty'"),
    (lambda: eager.tensor(["a"]), r"tensor: cannot make a tensor from data of type <U1"),
    (lambda: A + "x", r"add: unsupported operand of type str"),
    (lambda: A * None, r"mul: unsupported operand of type NoneType"),
    (lambda: A[1.5], r"index: index arrays must be integer, got float64"),
    (lambda: A.gather(1, eager.ones(3, 1)), r"gather: index must be integer, got float32"),
    (lambda: eager.ones(3, dtype=eager.int64).__iadd__(1.5), (r"add_: result type float32 "
                                                             r"cannot be written in place into "
                                                             r"a int64 tensor")),
    (lambda: eager.randn(2, dtype=eager.int64), r"normal: dtype must be floating, got int64"),
    (lambda: eager.tensor([1.]) | eager.tensor([2.]), (r"\|: only bool or integer tensors are "
                                                      r"supported, got float32")),
    (lambda: eager.ones(2, dtype=eager.uint8) + 300, (r"add: Python integer 300 is out of range "
                                                     r"for a uint8 tensor")),
    (lambda: eager.tensor([2, 3]) ** -1, r"pow: integers to negative integer powers"),
    (lambda: [0, 1][eager.tensor(1.5)], r"index: only integer tensors with one element"),
]


@pytest.mark.parametrize("case", range(len(DTYPE_ERRORS)))
def test_dtype_errors(case):
    fn, pattern = DTYPE_ERRORS[case]
    with raises(eager.DTypeError, pattern):
        fn()


def test_zero_dim_errors_are_type_errors_too():
    with raises(eager.ZeroDimError, r"len: a 0-d tensor has no length"):
        len(eager.tensor(1.0))
    with pytest.raises(TypeError, match="iter: cannot iterate over a 0-d tensor"):
        list(eager.tensor(1.0))


def test_device_errors_name_the_devices():
    with raises(eager.DeviceError, r"device: unknown device 'tpu'; expected 'cpu' or 'cuda'"):
        eager.zeros(2, device="tpu")
    if not _gpu():
        with raises(eager.DeviceError, r"device 'cuda' requested but cupy"):
            eager.zeros(2, device="cuda")
    if not _gpu():
        with raises(eager.DeviceError, r"random: generator is on cpu but device='cuda'"):
            eager.rand(2, device="cuda", generator=eager.Generator(device="cpu"))
    # A tensor claiming to live on another device (the data stays numpy here, so no GPU is
    # needed): dispatch refuses before running any kernel.
    elsewhere = wrap(np.ones(5, np.float32), "cuda")
    with raises(eager.DeviceError, r"add: expected all tensors on one device, got cpu, cuda"):
        eager.ones(5) + elsewhere


def _gpu():
    from kernels import cupy_available
    return cupy_available()


AUTOGRAD_ERRORS = [
    (lambda: eager.ones(3, 4, requires_grad=True).sum(0).backward(),
     r"backward: grad can be implicitly created only for scalar outputs, got shape \(4,\)"),
    (lambda: eager.ones(2).sum().backward(), (r"backward: element 0 of the outputs does not "
                                             r"require grad")),
    (lambda: eager.ones(2, requires_grad=True).numpy(), (r"numpy: can't call numpy\(\) on a "
                                                        r"tensor that requires grad")),
    (lambda: setattr(eager.ones(2, requires_grad=True), "grad", eager.ones(3)),
     r"grad: assigned gradient has shape \(3,\) but the tensor has shape \(2,\)"),
    (lambda: eager.grad(eager.ones(2, requires_grad=True).sum(), eager.ones(2)),
     r"grad: input 0 of shape \(2,\) does not require grad"),
    (lambda: (eager.ones(2, requires_grad=True) * 2).requires_grad_(False),
     r"requires_grad_: cannot turn off gradients of a non-leaf tensor"),
    (lambda: eager.ones(2, requires_grad=True).__iadd__(1), (r"add_: a leaf tensor of shape "
                                                            r"\(2,\) that requires grad")),
    (lambda: (eager.ones(2, requires_grad=True) * 1)[0].__imul__(2), (r"mul_: in-place update "
                                                                     r"of a view while "
                                                                     r"recording gradients")),
]


@pytest.mark.parametrize("case", range(len(AUTOGRAD_ERRORS)))
def test_autograd_errors(case):
    fn, pattern = AUTOGRAD_ERRORS[case]
    with raises(eager.AutogradError, pattern):
        fn()


def test_freed_graph_error_names_the_node_and_the_fix():
    x = eager.ones(2, requires_grad=True)
    y = x.exp().sum()
    y.backward()
    with raises(eager.AutogradError, r"SumBackward: trying to backward through the graph a "
                                     r"second time.*retain_graph=True"):
        y.backward()


def test_errors_subclass_the_matching_builtins():
    assert issubclass(eager.ShapeError, ValueError)
    assert issubclass(eager.DTypeError, TypeError)
    assert issubclass(eager.DeviceError, RuntimeError)
    assert issubclass(eager.AutogradError, RuntimeError)
    for kind in (eager.ShapeError, eager.DTypeError, eager.DeviceError, eager.AutogradError):
        assert issubclass(kind, eager.EagerError)


def test_user_line_is_added_once():
    from eager.dispatch import user_line_suffix
    err = eager.ShapeError("op: problem" + user_line_suffix())
    assert str(err).count("(at test_errors.py") == 1

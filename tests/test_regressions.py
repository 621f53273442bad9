"""Regression tests for bugs found by using eager-jit as a PyTorch/NumPy user would.

Each test names the bug it pins down; it failed before the fix."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import eager
from jit import jit
from kernels.shapes import reshape_is_view


@st.composite
def _strided_array_and_new_shape(draw):
    """A numpy array with arbitrary (sliced, permuted, reversed) strides, and a new shape
    of the same size."""
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=4)))
    steps = [draw(st.sampled_from([1, 2])) for _ in shape]
    big = np.zeros(tuple(d * s for d, s in zip(shape, steps)))
    a = big[tuple(slice(0, d * s, s) for d, s in zip(shape, steps))]
    a = a.transpose(draw(st.permutations(range(a.ndim))))
    a = a[tuple(slice(None, None, draw(st.sampled_from([1, -1]))) for _ in range(a.ndim))]
    new, rest = [], a.size
    while rest > 1:
        d = draw(st.sampled_from([d for d in range(2, rest + 1) if rest % d == 0]))
        new += [d] + ([1] if draw(st.booleans()) else [])
        rest //= d
    return a, tuple(new) or (1,)


@given(_strided_array_and_new_shape())
def test_reshape_is_view_agrees_with_numpy(case):
    a, new_shape = case
    assert reshape_is_view(a.shape, a.strides, new_shape) == np.shares_memory(
        a.reshape(new_shape), a)


def test_reshape_of_a_non_contiguous_tensor_is_a_copy_not_a_view():
    # Bug: reshape was always recorded as a view of its input (its _base, the traced
    # alias), though numpy copies when the strides do not allow a view. A jitted
    # function that reshaped a transposed input and updated the result in place wrote
    # the update back into the input on replay, where eager left it untouched.
    x = eager.arange(6.0).reshape(2, 3)
    flat = x.T.reshape(6)
    flat += 1
    assert x.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    assert flat.tolist() == [1.0, 4.0, 2.0, 5.0, 3.0, 6.0]
    assert flat._base is not x

    def f(t):
        v = t.T.reshape(6)
        v.add_(1)
        return v * 2

    jf = jit(f)
    for _ in range(3):
        a, b = eager.arange(6.0).reshape(2, 3), eager.arange(6.0).reshape(2, 3)
        assert jf(a).tolist() == f(b).tolist() == [2.0, 8.0, 4.0, 10.0, 6.0, 12.0]
        assert a.tolist() == b.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    assert jf.cache_info().hits == 2


def test_reshape_of_a_strided_slice_updated_in_place_matches_eager_under_jit():
    def g(t):
        t[::2].reshape(4).mul_(10)
        return t.sum()

    jg = jit(g)
    for _ in range(3):
        a, b = eager.arange(8.0).reshape(4, 2), eager.arange(8.0).reshape(4, 2)
        assert jg(a).item() == g(b).item() == 28.0
        assert a.tolist() == b.tolist() == eager.arange(8.0).reshape(4, 2).tolist()


def test_reshape_that_can_view_still_shares_memory_and_writes_through():
    x = eager.zeros(4, 3)
    x[1:3].reshape(6)[0] = 5.0
    x.T.reshape(3, 2, 2)[0, 1, 0] = 7.0
    assert x[1, 0].item() == 5.0 and x[2, 0].item() == 7.0


def test_reshape_copy_argument_follows_the_array_api():
    x = eager.arange(6.0).reshape(2, 3)
    copied = x.reshape(3, 2, copy=True)
    copied[0, 0] = 9.0
    assert x[0, 0].item() == 0.0
    assert not np.shares_memory(x.reshape(2, 3, copy=True).numpy(), x.numpy())
    assert np.shares_memory(x.reshape(6, copy=False).numpy(), x.numpy())
    with pytest.raises(eager.ShapeError, match=r"reshape: shape \(3, 2\) cannot become "
                                                r"\(6,\) without a copy.*test_regressions"):
        x.T.reshape(6, copy=False)


def test_view_of_a_non_contiguous_tensor_raises_instead_of_copying():
    # PyTorch's view never copies; here it silently returned a copy, so writes through
    # the "view" were lost.
    x = eager.zeros(2, 3)
    with pytest.raises(eager.ShapeError, match=r"view: a tensor of shape \(3, 2\) whose "
                                                r"memory is not contiguous cannot be viewed "
                                                r"as \(6,\).*test_regressions"):
        x.T.view(6)
    with pytest.raises(eager.ShapeError, match="view: .* cannot be viewed as"):
        x.T.view_as(eager.zeros(6))
    x.T.view(3, 1, 2)[2, 0, 1] = 1.0
    assert x[1, 2].item() == 1.0
    with pytest.raises(eager.ShapeError, match=r"view: cannot view tensor of shape \(2, 3\) "
                                                r"\(6 elements\) as shape \(4,\)"):
        x.view(4)
    with pytest.raises(eager.ShapeError, match=r"reshape: cannot reshape tensor of shape "
                                                r"\(3, 2\) \(6 elements\) into shape \(4,\)"):
        x.T.reshape(4)
    assert not reshape_is_view((2, 3), (12, 4), (4,))


def test_reshape_copy_keeps_gradients():
    w = eager.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=eager.float64, requires_grad=True)
    y = w.T.reshape(4) * eager.tensor([1.0, 2.0, 3.0, 4.0], dtype=eager.float64)
    y.sum().backward()
    assert w.grad.tolist() == [[1.0, 3.0], [2.0, 4.0]]
    assert eager.autograd.gradcheck(lambda t: (t.T.reshape(4) ** 2).sum(),
                                    (eager.tensor(np.ones((2, 2)), requires_grad=True),))


def test_jit_retraces_when_an_argument_s_strides_change_what_reshape_aliases():
    # Bug: the cache key ignored strides, so a variant traced with a contiguous x (where
    # x.reshape is a view and the in-place add reaches x) was replayed for a transposed
    # x of the same shape, writing into it where eager (reshape copies) did not.
    def f(x):
        v = x.reshape(6)
        v.add_(1)
        return v * 2

    jf = jit(f)
    first = eager.zeros(2, 3)
    jf(first)
    assert first.tolist() == [[1.0] * 3] * 2
    a, b = eager.zeros(3, 2).T, eager.zeros(3, 2).T
    assert jf(a).tolist() == f(b).tolist() == [2.0] * 6
    assert a.tolist() == b.tolist() == [[0.0] * 3] * 2
    assert jf.cache_info().reasons == ("first call", "x.strides: (12, 4) -> (4, 8)")


def _adam_reference(w, grads, lr, betas, eps):
    m, v = np.zeros_like(w), np.zeros_like(w)
    for t, g in enumerate(grads, start=1):
        m = betas[0] * m + (1 - betas[0]) * g
        v = betas[1] * v + (1 - betas[1]) * g * g
        w = w - lr * (m / (1 - betas[0] ** t)) / (np.sqrt(v / (1 - betas[1] ** t)) + eps)
    return w


def test_adam_bias_correction_is_accurate_for_float32_parameters():
    # Bug: 1 - beta2 ** step was computed in float32, where 1 - 0.999 keeps only ~4
    # digits; float32 Adam drifted ~50x further from the exact update than float32
    # rounding explains (first step from w=1, lr=0.1: 0.90000069 instead of 0.9).
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal(64)
    grads = [rng.standard_normal(64) * 1e-3 for _ in range(10)]
    w = eager.nn.Parameter(eager.tensor(w0, dtype=eager.float32))
    opt = eager.optim.Adam([w], lr=0.1)
    for g in grads:
        opt.zero_grad()
        (w * eager.tensor(g, dtype=eager.float32)).sum().backward()
        opt.step()
    expected = _adam_reference(w0, grads, 0.1, (0.9, 0.999), 1e-8)
    assert np.abs(w.detach().numpy() - expected).max() < 2e-6
    assert w.dtype == eager.float32


def test_remainder_has_a_gradient():
    # Bug: remainder was marked non-differentiable, so `(x % c).sum().backward()` raised
    # "does not require grad" though x % y = x - floor(x / y) * y is differentiable
    # almost everywhere (d/dx = 1, d/dy = -floor(x / y)).
    x = eager.tensor([0.3, -1.2, 2.7, -3.2], dtype=eager.float64, requires_grad=True)
    y = eager.tensor([0.7, -1.1, 2.3, 1.5], dtype=eager.float64, requires_grad=True)
    (x % y * eager.tensor([1.0, 2.0, 3.0, 4.0], dtype=eager.float64)).sum().backward()
    assert x.grad.tolist() == [1.0, 2.0, 3.0, 4.0]
    assert y.grad.tolist() == [-1.0 * 0, -2.0 * 1, -3.0 * 1, -4.0 * -3]
    assert eager.autograd.gradcheck(lambda a, b: (a % b).sum(), (
        eager.tensor(np.array([[0.3, -1.2], [2.7, 5.1]]), requires_grad=True),
        eager.tensor(np.array([0.7, -1.3]), requires_grad=True)))

    @jit
    def step(a):
        loss = (a % 0.75).sum()
        loss.backward()
        return a.grad * 1

    w = eager.tensor([0.3, 1.9, -2.2], requires_grad=True)
    assert step(w).tolist() == [1.0, 1.0, 1.0]


@pytest.mark.parametrize("dtype", [eager.int8, eager.uint8, eager.int32])
@pytest.mark.parametrize("value", [1000, -1000, 2**40, 2**70])
def test_comparing_an_integer_tensor_with_an_out_of_range_python_int_matches_under_jit(
        dtype, value):
    # Bug: eager compared int8 tensors with 1000 exactly (numpy does), but the jit's
    # graph check rejected the same op ("Python integer 1000 is out of range"), so a
    # jitted `x > 1000` raised GraphError where eager returned all False.
    x = eager.tensor([0, 1, 100, 127] if dtype != eager.uint8 else [0, 1, 200, 255],
                     dtype=dtype)
    data = x.numpy().astype(object)
    fns = {"gt": lambda t: t > value, "le": lambda t: value <= t, "eq": lambda t: t == value,
           "ne": lambda t: t != value, "fused": lambda t: (t * 1 >= value) | (t < value)}
    expected = {"gt": data > value, "le": value <= data, "eq": data == value,
                "ne": data != value, "fused": np.ones(4, bool)}
    for name, fn in fns.items():
        jf = jit(fn)
        for _ in range(2):
            assert jf(x).tolist() == fn(x).tolist() == expected[name].tolist(), name


def test_log_softmax_and_layer_norm_of_integer_input_use_the_default_float():
    # Bug: an int64 input minus its float32 logsumexp / mean promoted (numpy rules) to
    # float64, unlike softmax, exp or mean of the same input (float32).
    x = eager.tensor([[1, 2, 4]])
    F = eager.nn.functional
    out = F.log_softmax(x, dim=1)
    assert out.dtype == eager.float32
    ref = np.array([1.0, 2.0, 4.0]) - np.log(np.exp([1.0, 2.0, 4.0]).sum())
    np.testing.assert_allclose(out.numpy()[0], ref, rtol=1e-6)
    assert F.cross_entropy(x, eager.tensor([2])).dtype == eager.float32
    normed = F.layer_norm(x, (3,))
    assert normed.dtype == eager.float32
    np.testing.assert_allclose(normed.numpy()[0], (np.array([1.0, 2.0, 4.0]) - 7 / 3)
                               / np.sqrt(np.var([1.0, 2.0, 4.0]) + 1e-5), rtol=1e-5)
    assert F.log_softmax(x.astype(eager.float64), dim=1).dtype == eager.float64


def test_format_spec_on_a_0d_tensor_formats_its_value():
    # Bug: f"{loss:.4f}", the usual PyTorch training-loop print, raised TypeError.
    loss = eager.tensor([0.5, 0.25]).sum()
    assert f"loss {loss:.4f}" == "loss 0.7500"
    assert f"{eager.tensor(7):>3d}|{eager.tensor(True)}" == "  7|True"
    assert f"{eager.tensor([1.0, 2.0])}" == repr(eager.tensor([1.0, 2.0]))
    with pytest.raises(TypeError, match="unsupported format string"):
        f"{eager.tensor([1.0, 2.0]):.2f}"


def test_ragged_nested_lists_raise_a_named_error():
    # Bug: eager.tensor([[1, 2], [3]]) leaked numpy's bare ValueError.
    with pytest.raises(eager.ShapeError, match=r"tensor: cannot make a tensor from this list "
                                                r"\(.*inhomogeneous.*test_regressions"):
        eager.tensor([[1, 2], [3]])
    with pytest.raises(eager.ShapeError, match="could not convert string to float"):
        eager.tensor(["x"], dtype=eager.float32)
    with pytest.raises(eager.ShapeError, match="inhomogeneous"):
        eager.asarray([[1.0], 2.0])
    assert eager.tensor([[1, 2], [3, 4]]).shape == (2, 2)


def test_contiguous_and_clone_give_c_contiguous_memory_so_view_works():
    # Bug: clone()/contiguous() of a transposed tensor kept its transposed layout (numpy's
    # copy keeps the order), so the PyTorch idiom x.T.contiguous().view(-1) could not work;
    # and contiguous() copied views that were already contiguous.
    x = eager.arange(12.0).reshape(3, 4)
    for made in (x.T.contiguous(), x.T.clone(), (x.T * 2).contiguous()):
        assert made._data.flags.c_contiguous
    assert x.T.contiguous().view(-1).tolist() == np.arange(12.0).reshape(3, 4).T.ravel().tolist()
    row = x[1]
    assert row.contiguous() is row
    y = x.T * 2
    assert not y._data.flags.c_contiguous and y.contiguous() is not y
    with pytest.raises(eager.ShapeError, match=r"call \.contiguous\(\) first"):
        y.view(-1)


def test_equality_with_non_array_objects_is_identity_not_an_error():
    # Bug: `x == None`, `x != "auto"` and `x in (None, "a")` raised DTypeError; Python,
    # PyTorch and numpy code expects the identity fallback (False for ==, True for !=).
    x = eager.tensor([1.0, 2.0])
    assert (x == None) is False
    assert (x != "auto") is True
    assert x not in (None, "a")
    assert [None, "a", x].index(x) == 2
    assert (x == [1.0, 5.0]).tolist() == [True, False]
    assert (x != np.float32(2.0)).tolist() == [True, False]
    with pytest.raises(eager.DTypeError, match="add: unsupported operand of type str"):
        x + "a"


def test_floor_divide_remainder_pow_abs_of_bools_raise_like_the_op_rule():
    # Bug: eager let numpy compute bool // bool, bool % bool and bool ** bool (as int8),
    # while the op rule (and so every jitted graph) rejects bool: jit raised GraphError
    # on code that ran eagerly.
    t = eager.tensor([True, False])
    for fn, name in ((lambda a: a // a, "floor_divide"), (lambda a: a % True, "remainder"),
                     (lambda a: a ** a, "pow")):
        with pytest.raises(eager.DTypeError, match=f"{name}: dtype bool is not supported"):
            fn(t)
        with pytest.raises(eager.DTypeError, match=f"{name}: dtype bool is not supported"):
            jit(fn)(t)
    assert (t // 2).tolist() == [0, 0] and (t ** 2).dtype == eager.int64
    with pytest.raises(eager.DTypeError, match="abs: dtype bool is not supported"):
        abs(t)
    with pytest.raises(eager.DTypeError, match="abs: dtype bool is not supported"):
        jit(lambda a: a.abs())(t)
    assert eager.tensor([-2]).abs().tolist() == [2]


@pytest.mark.parametrize("name, fn, expected", [
    ("sum(-1)", lambda a: a.sum(dim=-1, keepdim=True), 3.0),
    ("mean(0)", lambda a: a.mean(0), 3.0),
    ("max(dim=0)", lambda a: a.max(dim=0).values, 3.0),
    ("cumsum(0)", lambda a: a.cumsum(0), 3.0),
    ("sort", lambda a: a.sort(dim=0).values, 3.0),
    ("argsort", lambda a: a.argsort(), 0),
    ("topk", lambda a: a.topk(1).values, 3.0),
    ("flip(0)", lambda a: a.flip(0), 3.0),
    ("squeeze(0)", lambda a: a.squeeze(0), 3.0),
    ("log_softmax(0)", lambda a: eager.nn.functional.log_softmax(a, dim=0), 0.0),
])
def test_dim_0_and_minus_1_of_a_0d_tensor_give_a_0d_result(name, fn, expected):
    # Bug: PyTorch accepts dim 0 / -1 on a 0-d tensor; here sum(-1) raised, mean(0) and
    # flip(0) leaked numpy AxisErrors, squeeze(0)/topk raised IndexError, and cumsum/sort
    # returned shape (1,) eagerly while the jit raised GraphError.
    out = fn(eager.tensor(3.0))
    assert out.shape == () and out.item() == expected, name
    assert jit(fn)(eager.tensor(3.0)).shape == ()
    x = eager.tensor(2.0, dtype=eager.float64, requires_grad=True)
    if out.dtype.kind == "f":
        (fn(x) * 3).backward()
        assert x.grad.item() == (0.0 if "softmax" in name else 3.0)
    with pytest.raises(eager.ShapeError, match="axis 1 is out of range for a tensor with 0 dims"):
        eager.tensor(3.0).sum(1)


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning",
                            "ignore:invalid value:RuntimeWarning")  # the masked-out 0**-1
def test_gradient_of_x_to_the_zero_is_zero_at_x_zero():
    # Bug: d(x**0)/dx was computed as 0 * 0**-1 = nan at x == 0 (polynomial features
    # x**0, x**1, ... gave NaN gradients); PyTorch and the math say 0.
    x = eager.tensor([0.0, 2.0, -1.5], dtype=eager.float64, requires_grad=True)
    (x ** 0).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0]
    x.grad = None
    powers = eager.tensor([0.0, 2.0, 0.0], dtype=eager.float64)
    (x ** powers).sum().backward()
    assert x.grad.tolist() == [0.0, 4.0, 0.0]
    assert eager.autograd.gradcheck(lambda u, v: (u ** v).sum(), (
        eager.tensor(np.array([0.5, 2.0]), requires_grad=True),
        eager.tensor(np.array([0.0, 1.5]), requires_grad=True)))


def test_clip_passes_the_full_gradient_to_values_on_a_bound():
    # Bug: clip was maximum/minimum, whose tie rule split the gradient 0.5 / 0.5, so a
    # value exactly on a bound got gradient 0.5; PyTorch's clamp gives 1 on [min, max].
    x = eager.tensor([1.0, 2.0, 3.0, 5.0, 6.0], dtype=eager.float64, requires_grad=True)
    y = x.clamp(2.0, 5.0)
    assert y.tolist() == [2.0, 2.0, 3.0, 5.0, 5.0]
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 1.0, 1.0, 0.0]
    low = eager.tensor([2.0] * 5, dtype=eager.float64, requires_grad=True)
    x.grad = None
    x.clip(min=low).sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 1.0, 1.0, 1.0] and low.grad.tolist() == [1.0] + [0.0] * 4
    assert np.isnan(eager.tensor([float("nan"), 9.0]).clip(0.0, 1.0).tolist()[0])
    assert eager.tensor([3, 9], dtype=eager.int8).clip(4, 6).tolist() == [4, 6]
    assert jit(lambda t: t.clip(2.0, 5.0))(eager.tensor([1.0, 2.0, 7.0])).tolist() == [2.0, 2.0, 5.0]


def test_concat_of_one_tensor_is_a_new_tensor_and_0d_inputs_raise():
    # Bug: eager.cat([x]) returned x itself, so an in-place update of the "result" changed
    # x (PyTorch returns a new tensor); cat of 0-d tensors leaked a bare IndexError.
    x = eager.tensor([1.0, 2.0])
    y = eager.cat([x])
    y.add_(1)
    assert x.tolist() == [1.0, 2.0] and y.tolist() == [2.0, 3.0]
    with pytest.raises(eager.ShapeError, match=r"concat: 0-d tensors cannot be concatenated"):
        eager.cat([eager.tensor(1.0), eager.tensor(2.0)])
    w = eager.tensor([1.0, 2.0], requires_grad=True)
    (eager.cat([w]) * 3).sum().backward()
    assert w.grad.tolist() == [3.0, 3.0]


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")  # log(0) = -inf
def test_logsumexp_and_softmax_over_an_empty_axis():
    # Bug: both shifted by the max over the axis, which raised "max: cannot reduce over
    # an empty axis"; PyTorch gives -inf (the log of an empty sum) and an empty softmax.
    x = eager.zeros(3, 0)
    assert x.logsumexp(1).tolist() == [-np.inf] * 3
    assert x.logsumexp(dim=(0, 1), keepdim=True).shape == (1, 1)
    assert eager.nn.functional.softmax(x, dim=1).shape == (3, 0)
    assert jit(lambda t: t.logsumexp(-1))(x).tolist() == [-np.inf] * 3
    assert eager.zeros(0, 2).logsumexp(1).shape == (0,)

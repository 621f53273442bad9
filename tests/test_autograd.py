"""Autograd: every differentiable op against finite differences (float64 gradcheck),
broadcasting, repeated indices, higher-order gradients, long chains, graph freeing and
in-place safety."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import eager
from eager.autograd import gradcheck


def t64(shape, low=-2.0, high=2.0, seed=0, requires_grad=True):
    data = np.random.default_rng(seed).uniform(low, high, size=shape)
    return eager.tensor(data, dtype=eager.float64, requires_grad=requires_grad)


def positive(shape, seed=0):
    return t64(shape, 0.5, 2.0, seed)


UNARY = {
    "neg": lambda x: -x,
    "exp": lambda x: x.exp(),
    "sin": lambda x: x.sin(),
    "cos": lambda x: x.cos(),
    "tanh": lambda x: x.tanh(),
    "sigmoid": lambda x: x.sigmoid(),
    "abs": lambda x: x.abs(),
    "square": lambda x: x.square(),
    "relu": lambda x: x.relu(),
    "clone": lambda x: x.clone(),
    "pow_scalar": lambda x: x ** 3,
    "rpow": lambda x: 2.0 ** x,
    "div_scalar": lambda x: x / 3.0,
    "rdiv": lambda x: 1.5 / (x.abs() + 1),
    "clip": lambda x: x.clip(-0.5, 0.7),
    "cumsum": lambda x: x.cumsum(dim=1),
    "sort": lambda x: x.sort(dim=1, descending=True).values,
    "topk": lambda x: x.topk(2)[0],
    "flip": lambda x: x.flip(0),
    "pad": lambda x: eager.pad(x, ((1, 0), (2, 1))),
    "getitem_basic": lambda x: x[1:, ::-2],
    "getitem_none_ellipsis": lambda x: x[None, ..., 1],
    "getitem_int_array_repeated": lambda x: x[[0, 0, 2, 0]],
    "getitem_two_arrays": lambda x: x[[0, 2, 2], [1, 1, 3]],
    "getitem_mask": lambda x: x[x > 0],
    "gather_repeated": lambda x: x.gather(1, eager.tensor([[0, 0], [3, 3], [1, 0]])),
    "reshape": lambda x: x.reshape(4, 3),
    "permute_T": lambda x: x.T * 1.0,
    "expand": lambda x: x[:1].expand(5, 4),
    "squeeze_unsqueeze": lambda x: x.unsqueeze(0).squeeze(0).flatten(),
    "split": lambda x: x.split([1, 3], dim=1)[1],
    "sum_axis": lambda x: x.sum(dim=1, keepdim=True),
    "sum_all": lambda x: x.sum(),
    "mean": lambda x: x.mean(axis=0),
    "prod": lambda x: x.prod(dim=1),
    "max": lambda x: x.max(dim=1).values,
    "max_axis": lambda x: x.max(axis=1, keepdims=True),
    "min_all": lambda x: x.min(),
    "var": lambda x: x.var(dim=1),
    "std": lambda x: x.std(dim=0, unbiased=True),
    "logsumexp": lambda x: x.logsumexp(dim=1),
    "where": lambda x: eager.where(x > 0, x * 2, x.sin()),
    "maximum_scalar": lambda x: eager.maximum(x, 0.3),
    "matmul_self": lambda x: x @ x.T,
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_gradcheck_unary_and_shape_ops(name):
    x = t64((3, 4), seed=sorted(UNARY).index(name))
    assert gradcheck(UNARY[name], [x])


POSITIVE_UNARY = {
    "log": lambda x: x.log(),
    "sqrt": lambda x: x.sqrt(),
    "pow_fractional": lambda x: x ** 0.7,
    "tensor_pow_tensor": lambda x: x ** (x + 0.5),
}


@pytest.mark.parametrize("name", sorted(POSITIVE_UNARY))
def test_gradcheck_ops_on_positive_inputs(name):
    assert gradcheck(POSITIVE_UNARY[name], [positive((2, 3))])


BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (b.abs() + 0.5),
    "maximum": lambda a, b: eager.maximum(a, b),
    "minimum": lambda a, b: eager.minimum(a, b),
    "where": lambda a, b: eager.where(a > b, a, b * 3),
    "pow": lambda a, b: (a.abs() + 0.5) ** b,
}


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("shapes", [((3, 4), (3, 4)), ((3, 1), (1, 4)), ((2, 3, 4), (4,)),
                                    ((), (2, 3))])
def test_gradcheck_binary_ops_with_broadcasting(name, shapes):
    a, b = t64(shapes[0], seed=1), t64(shapes[1], seed=2)
    assert gradcheck(BINARY[name], [a, b])


@pytest.mark.parametrize("sa,sb", [((3, 4), (4, 2)), ((4,), (4, 2)), ((3, 4), (4,)),
                                   ((4,), (4,)), ((2, 1, 3, 4), (5, 4, 2)), ((2, 3, 4), (4,))])
def test_gradcheck_matmul_batched_and_broadcast(sa, sb):
    assert gradcheck(lambda a, b: a @ b, [t64(sa, seed=3), t64(sb, seed=4)])


def test_gradcheck_concat_stack_and_tensordot():
    a, b = t64((2, 3), seed=5), t64((4, 3), seed=6)
    assert gradcheck(lambda a, b: eager.cat([a, b * 2], dim=0), [a, b])
    assert gradcheck(lambda a: eager.stack([a, a.exp()], axis=1), [a])
    assert gradcheck(lambda a, b: eager.tensordot(a, b.T, axes=1), [a, b])


def test_gradcheck_setitem_and_index_add_with_repeated_indices():
    def set_rows(x, v):
        y = x * 1.0
        y[[0, 2]] = v
        return y
    assert gradcheck(set_rows, [t64((3, 4), seed=7), t64((4,), seed=8)])
    from eager.ops.indexing import index_add
    assert gradcheck(lambda x, v: index_add(x, ([1, 1, 0],), v),
                     [t64((3, 2), seed=9), t64((3, 2), seed=10)])


def test_cast_backward_returns_gradient_in_the_input_dtype():
    x = eager.tensor([1.0, 2.0], dtype=eager.float64, requires_grad=True)
    (x.to(eager.float32) * 3).sum().backward()
    assert x.grad.dtype == eager.float64 and x.grad.tolist() == [3.0, 3.0]
    assert not x.to(eager.int64).requires_grad


def test_gradients_have_the_dtype_of_their_tensor():
    x = eager.tensor([1.0], requires_grad=True)
    (x * eager.tensor([2.0], dtype=eager.float64)).sum().backward()
    assert x.grad.dtype == eager.float32 and x.grad.item() == 2.0


def test_backward_needs_outputs_the_caller_no_longer_holds():
    x = eager.tensor([0.5], dtype=eager.float64, requires_grad=True)
    y = x
    for _ in range(50):
        y = y.tanh()        # each tanh's gradient reads its own (dropped) output
    y.backward()
    value, expected = 0.5, 1.0
    for _ in range(50):
        value = np.tanh(value)
        expected *= 1 - value * value
    assert x.grad.item() == pytest.approx(expected, rel=1e-12)


def test_gradcheck_scatter_add_with_repeated_indices():
    index = eager.tensor([[0, 0], [2, 0], [1, 1]])
    assert gradcheck(lambda base, src: base.scatter_add(1, index, src * src),
                     [t64((3, 3), seed=13), t64((3, 2), seed=14)])


def test_repeated_index_gradient_counts_each_use():
    x = eager.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[[0, 0, 2, 0]].sum().backward()
    assert x.grad.tolist() == [3.0, 0.0, 1.0]


def test_composed_neuron_gradient_matches_formula():
    w = eager.tensor([0.5, -0.3], dtype=eager.float64, requires_grad=True)
    b = eager.tensor(0.1, dtype=eager.float64, requires_grad=True)
    x = eager.tensor([1.0, 2.0], dtype=eager.float64)
    o = ((w * x).sum() + b).tanh()
    o.backward()
    pre = 0.5 * 1.0 - 0.3 * 2.0 + 0.1
    d = 1 - np.tanh(pre) ** 2
    np.testing.assert_allclose(w.grad.numpy(), d * np.array([1.0, 2.0]))
    np.testing.assert_allclose(b.grad.item(), d)


def test_create_graph_second_derivatives():
    x = t64((3,), seed=11)
    (g,) = eager.grad((x ** 3).sum(), x, create_graph=True)
    (gg,) = eager.grad(g.sum(), x)
    np.testing.assert_allclose(gg.numpy(), 6 * x.detach().numpy())

    def first_derivative(x):
        (g,) = eager.grad((x.tanh() * x.sin()).sum(), x, create_graph=True)
        return g
    assert gradcheck(first_derivative, [t64((4,), seed=12)])


def test_backward_create_graph_accumulates_differentiable_grad():
    x = eager.tensor(1.5, dtype=eager.float64, requires_grad=True)
    (x ** 4).backward(create_graph=True)
    first = x.grad
    assert first.requires_grad
    x.grad = None
    first.backward()
    assert x.grad.item() == pytest.approx(12 * 1.5 ** 2)


def test_backward_through_a_chain_of_10000_ops_does_not_recurse():
    x = eager.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.sum().backward()
    assert x.grad.item() == pytest.approx(1.0001 ** 10_000, rel=1e-3)


def test_second_backward_without_retain_graph_raises():
    x = eager.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(eager.AutogradError, match="backward through the graph a second time"):
        y.backward()


def test_retain_graph_allows_second_backward_and_accumulates():
    x = eager.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.tolist() == [4.0, 8.0]


def test_gradient_accumulates_across_backward_calls_and_shared_inputs():
    x = eager.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x + x).sum().backward()
    assert x.grad.tolist() == [5.0, 5.0]


def test_non_scalar_backward_needs_gradient_and_checks_its_shape():
    x = eager.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    with pytest.raises(eager.AutogradError, match=r"implicitly created only for scalar.*\(2,\)"):
        y.backward()
    with pytest.raises(eager.AutogradError, match=r"gradient of shape \(3,\) does not match"):
        y.backward(eager.ones(3))
    y.backward(eager.tensor([1.0, 10.0]))
    assert x.grad.tolist() == [2.0, 20.0]


def test_no_grad_enable_grad_and_detach():
    x = eager.tensor([1.0], requires_grad=True)
    with eager.no_grad():
        y = x * 2
        with eager.enable_grad():
            z = x * 2
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad and z.grad_fn.name == "MulBackward"
    d = (x * 2).detach()
    assert not d.requires_grad and d.is_leaf

    @eager.no_grad()
    def f(t):
        return t * 2
    assert not f(x).requires_grad
    assert eager.is_grad_enabled()


def test_integer_outputs_do_not_require_grad():
    x = eager.tensor([1.0, -2.0], requires_grad=True)
    assert not (x > 0).requires_grad
    assert not x.argmax().requires_grad


def test_inplace_change_to_saved_tensor_raises_instead_of_wrong_gradient():
    x = eager.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    z = y * 2
    y += 1
    with pytest.raises(eager.AutogradError, match=r"ExpBackward.*modified by an in-place "
                                                   r"operation \(version 0 -> 1\)"):
        (z + y).sum().backward()


def test_inplace_change_through_a_view_is_detected():
    x = eager.tensor([1.0, 2.0, 3.0], requires_grad=True)
    h = x * 1.0
    y = h.sin()
    with eager.no_grad():
        view = h[1:]
        view[0] = 10.0
    with pytest.raises(eager.AutogradError, match="SinBackward: input 0"):
        y.sum().backward()


def test_inplace_on_unsaved_value_keeps_earlier_uses_correct():
    x = eager.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2
    z = y * 3      # uses y before the in-place update
    y += x         # y is now 3x; z still depends on the old y
    (z + y).sum().backward()
    assert x.grad.tolist() == [9.0, 9.0, 9.0]


def test_inplace_ops_are_differentiable():
    x = eager.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1.0
    y *= 3.0
    y += x
    y -= 1.0
    y.sum().backward()
    assert x.grad.tolist() == [4.0, 4.0]


def test_inplace_on_leaf_requiring_grad_raises():
    x = eager.tensor([1.0], requires_grad=True)
    with pytest.raises(eager.AutogradError, match="leaf tensor of shape \\(1,\\) that requires "
                                                   "grad is used in an in-place operation"):
        x += 1
    with eager.no_grad():
        x += 1
    assert x.tolist() == [2.0]


def test_grad_api_unused_inputs_and_non_leaf_inputs():
    x = eager.tensor([1.0, 2.0], requires_grad=True)
    w = eager.tensor([3.0], requires_grad=True)
    h = x * 2
    out = (h * h).sum()
    gh, gx = eager.grad(out, [h, x], retain_graph=True)
    assert gh.tolist() == [4.0, 8.0] and gx.tolist() == [8.0, 16.0]
    with pytest.raises(eager.AutogradError, match="input 1 of shape \\(1,\\) was not used"):
        eager.grad(out, [x, w], retain_graph=True)
    assert eager.grad(out, [x, w], allow_unused=True)[1] is None
    assert x.grad is None


@given(st.lists(st.floats(-3, 3), min_size=1, max_size=6))
def test_tanh_gradient_property(values):
    x = eager.tensor(values, dtype=eager.float64, requires_grad=True)
    x.tanh().sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 1 - np.tanh(np.array(values)) ** 2, rtol=1e-12)


def test_gradcheck_reports_wrong_gradients():
    x = t64((3,))
    with pytest.raises(eager.AutogradError, match="gradient of input 0"):
        gradcheck(lambda t: t.detach() * t, [x])
    with pytest.raises(eager.AutogradError, match="should be float64"):
        gradcheck(lambda t: t * 2, [eager.tensor([1.0], requires_grad=True)])

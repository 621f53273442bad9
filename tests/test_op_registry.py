"""The op registry agrees with itself and with eager: one home per op.

Every fact about a primitive (rule, kind, C expression, identities, backward rule and what
it reads, public spellings) lives on its OpDef; these tests walk `OPS` and check that the
facts are complete and that eager, autograd and the tracer read the same ones.
"""
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import eager
import eager.autograd.engine
import tracer
from eager.dispatch import apply, spec_of
from eager.ops.public import METHODS, NAMESPACE
from jit import jit
from kernels import OPS, EagerError, GroupOp, OpKind, Rest, TensorSpec
from kernels.dtypes import DTYPES

F = eager.nn.functional


# ---- completeness -----------------------------------------------------------------------
def test_every_kind_is_an_opkind():
    for op in OPS.values():
        assert isinstance(op.kind, OpKind), op
        assert op.kind == op.kind.value   # still compares equal to the bare string


def test_every_differentiable_op_has_a_backward_rule_and_saved_values():
    for op in OPS.values():
        if op.differentiable:
            assert callable(op.backward), f"{op.name} has no backward rule"
            assert op.saves is not None, f"{op.name} does not say what its rule reads"
            if op.arity >= 0:
                assert len(op.saves) <= op.arity, op.name
                for reads in op.saves:
                    for p in reads:
                        assert type(p) is Rest or p == -1 or 0 <= p < op.arity, (op.name, p)
        else:
            assert op.backward is None, f"{op.name} is not differentiable but has a rule"


def test_every_elementwise_op_has_a_c_expression_or_is_marked_not_fusable():
    for op in OPS.values():
        if op.kind in GroupOp.ELEMENTWISE:
            assert op.c_expr is not None or op.complex_c_expr is not None \
                or not op.fusable, op.name


def test_every_reduction_that_codegen_combines_has_an_identity():
    for op in OPS.values():
        if op.kind is OpKind.REDUCE and op.c_expr is not None:
            assert op.identity is not None, op.name


def test_identities_are_exact():
    f32 = np.dtype("float32")
    x = np.array([-0.0, 0.0, 1.5, -2.0, np.inf, np.nan], dtype=f32)
    for op in OPS.values():
        for position, neutral in op.identities.items():
            args = [x, x]
            args[position] = neutral
            got = op.cpu_kernel(*args)
            assert got.dtype == f32
            np.testing.assert_array_equal(got, x)
            assert (np.signbit(got) == np.signbit(x)).all(), op.name
    assert not OPS.add.is_identity(1, 0.0, f32)       # -0.0 + 0.0 is +0.0
    assert OPS.sub.is_identity(1, 0.0, f32) and OPS.add.is_identity(0, -0.0, f32)


# ---- public names ------------------------------------------------------------------------
def _declared(field):
    names = {}
    for op in OPS.values():
        for name in getattr(op, field):
            assert name not in names, f"{name!r} is a spelling of {names[name]} and {op.name}"
            names[name] = op.name
    return names


def test_every_public_name_maps_to_exactly_one_op():
    for name, op_name in _declared("functions").items():
        fn = getattr(eager, name)
        assert fn is NAMESPACE[name] and fn.op is OPS[op_name], name
        assert name in eager.__all__
    for name, op_name in _declared("methods").items():
        method = getattr(eager.Tensor, name)
        if name.endswith("_"):
            assert METHODS[name[:-1]].op is OPS[op_name]
        else:
            assert method is METHODS[name] and method.op is OPS[op_name], name
    dunders = {}
    for op in OPS.values():
        for dunder in op.operators():
            assert dunder not in dunders, f"{dunder} belongs to {dunders[dunder]} and {op.name}"
            dunders[dunder] = op.name
            assert hasattr(eager.Tensor, dunder), dunder


def test_no_eager_function_claims_an_op_that_does_not_declare_it():
    for name in dir(eager):
        op = getattr(getattr(eager, name), "op", None)
        if op is not None:
            assert name in op.functions, name


def test_operators_run_their_op():
    a, b = eager.tensor([6, 7]), eager.tensor([4, 2])
    for op in OPS.values():
        if op.symbol is None or op.arity != 2 or op.input_kinds == "b" or op.name == "matmul":
            continue
        dunder = next(iter(op.operators()))
        got = getattr(a, dunder)(b)
        assert got.tolist() == apply(op, a, b).tolist(), op.name
        if "__r" + dunder[2:] in op.operators():
            assert getattr(b, "__r" + dunder[2:])(a).tolist() == got.tolist(), op.name


def test_placeholder_operators_come_from_the_ops():
    a = tracer.Placeholder("a")
    b = tracer.Placeholder("b")
    assert repr((a // b) % 3) == "Expr((a // b) % 3)"
    assert (~a)(eager.tensor([0, 5])).tolist() == [-1, -6]


# ---- eager agrees with each op's shape/dtype rule ---------------------------------------
FLOAT = [DTYPES[n] for n in ("float16", "float32", "float64")]
ALL = FLOAT + [DTYPES[n] for n in ("int8", "int32", "int64", "uint8", "bool")]
shapes = st.lists(st.integers(1, 3), min_size=0, max_size=3).map(tuple)


def _array(draw, shape, dtype, low=-3):
    data = draw(st.lists(st.integers(low, 3), min_size=int(np.prod(shape)),
                         max_size=int(np.prod(shape))))
    arr = np.array(data).reshape(shape)
    if dtype.kind == "b":
        return eager.tensor(arr > 0)
    if dtype.kind == "u":
        arr = np.abs(arr)
    return eager.tensor(arr.astype(dtype))


def _broadcast_partner(draw, shape):
    """A shape broadcastable with `shape`: a suffix of it with some dims set to 1."""
    suffix = shape[len(shape) - draw(st.integers(0, len(shape))):]
    return tuple(1 if draw(st.booleans()) else d for d in suffix)


@st.composite
def elementwise_calls(draw):
    op = draw(st.sampled_from([op for op in OPS.values()
                               if op.kind in (OpKind.UNARY, OpKind.BINARY) and op.functions]))
    shape = draw(shapes)
    # Integers to negative integer powers fail on the values, which no rule sees.
    low = 0 if op.name == "pow" else -3
    x = _array(draw, shape, draw(st.sampled_from(ALL)), low)
    if op.arity == 1:
        return op, (x,), ({"dtype": draw(st.sampled_from(ALL))} if op is OPS.cast else {})
    other = draw(st.one_of(
        st.builds(lambda s, d: (s, d), st.just(None), st.sampled_from([2, 0.5, True] if low == 0 else [2, -1, 0.5, True])),
        st.builds(lambda s, d: (s, d), st.just(_broadcast_partner(draw, shape)),
                  st.sampled_from(ALL))))
    y = other[1] if other[0] is None else _array(draw, other[0], other[1], low)
    return op, ((x, y) if draw(st.booleans()) else (y, x)), {}


@settings(max_examples=300, deadline=None)
@given(elementwise_calls())
def test_eager_elementwise_results_match_the_ops_rule(call):
    op, args, attrs = call
    if any(type(a) is not eager.Tensor for a in args) and all(
            type(a) is not eager.Tensor or a.ndim == 0 for a in args):
        assume(False)
    try:
        spec = op.infer(*(spec_of(a) for a in args), **attrs)
    except EagerError:
        assume(False)   # the rule refuses these inputs; eager may promote them first
    with np.errstate(all="ignore"):
        out = NAMESPACE[op.functions[0]](*args, *attrs.values())
    assert (out.shape, out.dtype) == (spec.shape, spec.dtype), op.name


@st.composite
def reduction_calls(draw):
    op = draw(st.sampled_from([op for op in OPS.values() if op.kind is OpKind.REDUCE]))
    shape = draw(shapes)
    x = _array(draw, shape, draw(st.sampled_from(ALL)))
    keepdims = draw(st.booleans())
    if op.name in ("argmax", "argmin"):
        axis = draw(st.one_of(st.none(), st.integers(0, len(shape) - 1))) if shape else None
    else:
        axis = tuple(sorted(draw(st.sets(st.integers(0, max(len(shape) - 1, 0)))))) \
            if shape else ()
    return op, x, {"axis": axis, "keepdims": keepdims}


@settings(max_examples=150, deadline=None)
@given(reduction_calls())
def test_eager_reduction_results_match_the_ops_rule(call):
    op, x, attrs = call
    spec = op.infer(spec_of(x), **attrs)
    out = apply(op, x, **attrs)
    assert (out.shape, out.dtype) == (spec.shape, spec.dtype), op.name


@st.composite
def movement_calls(draw):
    shape = draw(shapes)
    x = _array(draw, shape, draw(st.sampled_from(ALL)))
    n = len(shape)
    name = draw(st.sampled_from(["reshape", "permute", "expand", "flip", "pad", "slice",
                                 "concat"]))
    if name == "reshape":
        return OPS.reshape, (x,), {"shape": (int(np.prod(shape)),) + (1,) * draw(
            st.integers(0, 2))}
    if name == "permute":
        return OPS.permute, (x,), {"axes": tuple(draw(st.permutations(range(n))))}
    if name == "expand":
        lead = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
        return OPS.expand, (x,), {"shape": lead + shape}
    if name == "flip":
        return OPS.flip, (x,), {"axes": tuple(sorted(draw(st.sets(st.integers(0, n - 1)))))
                                if n else ()}
    if name == "pad":
        widths = tuple((draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in shape)
        return OPS.pad, (x,), {"widths": widths, "value": 0}
    if name == "slice":
        key = tuple(("s", draw(st.integers(-3, 3)), None, draw(st.sampled_from([1, 2, -1])))
                    for _ in shape)
        return OPS.slice, (x,), {"key": key}
    assume(n > 0)
    other = _array(draw, shape, draw(st.sampled_from(ALL)))
    return OPS.concat, (x, other), {"axis": draw(st.integers(0, n - 1))}


@settings(max_examples=150, deadline=None)
@given(movement_calls())
def test_eager_movement_results_match_the_ops_rule(call):
    op, args, attrs = call
    spec = op.infer(*(spec_of(a) for a in args), **attrs)
    out = apply(op, *args, **attrs)
    assert isinstance(spec, TensorSpec)
    assert (out.shape, out.dtype) == (spec.shape, spec.dtype), op.name


# ---- relu: one definition ---------------------------------------------------------------
def _eager_step(relu):
    def step(x):
        y = relu(x)
        y.sum().backward()
        return y.detach()
    return step


RELU_STEPS = {
    "Tensor.relu": _eager_step(lambda x: x.relu()),
    "eager.relu": _eager_step(eager.relu),
    "F.relu": _eager_step(F.relu),
    "nn.ReLU": _eager_step(eager.nn.ReLU()),
    "jit step with F.relu": jit(_eager_step(F.relu)),
    "jit step with Tensor.relu": jit(_eager_step(lambda x: x.relu())),
}


@pytest.mark.parametrize("spelling", RELU_STEPS)
def test_relu_gradient_at_zero_is_zero_on_every_spelling(spelling):
    for _ in range(2):   # a jitted step: trace, then replay
        x = eager.tensor([-1.0, 0.0, 2.0], requires_grad=True)
        y = RELU_STEPS[spelling](x)
        assert y.tolist() == [0.0, 0.0, 2.0]
        assert x.grad.tolist() == [0.0, 0.0, 1.0]


def test_relu_keeps_dtype_and_nan():
    assert eager.tensor([-2, 3]).relu().tolist() == [0, 3]
    assert eager.tensor([-2, 3], dtype=eager.int8).relu().dtype == eager.int8
    assert np.isnan(eager.tensor([float("nan")]).relu().item())


@pytest.mark.parametrize("fn", [lambda r: r.sqrt(), lambda r: r.log()], ids=["sqrt", "log"])
def test_gradient_through_relu_is_masked_where_x_is_not_positive(fn):
    # As in PyTorch: relu's backward selects, so sqrt'(0) = inf never reaches x.
    x = eager.tensor([-1.0, 0.0, 4.0], requires_grad=True)
    with np.errstate(divide="ignore"):
        fn(x.relu()).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.25]   # sqrt'(4) = 1/4 = log'(4)


# ---- ~ ----------------------------------------------------------------------------------
def test_invert_on_floats_raises_naming_the_op_and_dtype():
    with pytest.raises(eager.DTypeError, match=r"bitwise_invert \(~\): dtype float32 is not "
                                               r"supported; it takes integer or bool tensors "
                                               r"\(at test_op_registry.py:\d+: "):
        ~eager.tensor([1.5])
    with pytest.raises(eager.DTypeError, match="bitwise_invert: dtype float16 is not supported"):
        OPS.bitwise_invert.infer(TensorSpec((2,), np.dtype("float16")))
    with pytest.raises(eager.DTypeError, match="float64"):
        eager.bitwise_invert(eager.tensor([1.5], dtype=eager.float64))


def test_invert_on_ints_and_bools():
    assert (~eager.tensor([0, 5, -3])).tolist() == [-1, -6, 2]
    assert (~eager.tensor([0, 200], dtype=eager.uint8)).tolist() == [255, 55]
    assert (~eager.tensor([True, False])).tolist() == [False, True]
    assert eager.tensor([1, 2]).bitwise_not().tolist() == [-2, -3]


def test_invert_compiles_to_c():
    f = jit(lambda x: ~x * 2 + 1)
    x = eager.tensor(np.arange(-4, 4, dtype=np.int32))
    for _ in range(2):
        assert f(x).tolist() == ((~np.arange(-4, 4, dtype=np.int32)) * 2 + 1).tolist()


# ---- autograd corner cases --------------------------------------------------------------
def test_std_of_a_constant_has_zero_gradient():
    x = eager.tensor([2.0, 2.0, 2.0], requires_grad=True)
    s = x.std()
    s.backward()
    assert s.item() == 0.0 and x.grad.tolist() == [0.0, 0.0, 0.0]
    x = eager.tensor([[1.0, 3.0], [5.0, 5.0]], requires_grad=True)
    x.std(dim=1, correction=0).sum().backward()
    assert x.grad.tolist() == [[-0.5, 0.5], [0.0, 0.0]]
    assert np.isnan(eager.tensor([1.0]).std(unbiased=True).item())


def test_inplace_on_a_non_leaf_differentiates_as_pytorch():
    x = eager.tensor([1.0, 2.0, 3.0], requires_grad=True)
    z = eager.tensor([4.0, 5.0, 6.0], requires_grad=True)
    y = x.clone()
    y.mul_(z)
    y.sum().backward()
    assert x.grad.tolist() == [4.0, 5.0, 6.0] and z.grad.tolist() == [1.0, 2.0, 3.0]


def test_chained_inplace_ops_on_a_non_leaf():
    xn, zn = np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0])
    x = eager.tensor(xn, dtype=eager.float64, requires_grad=True)
    z = eager.tensor(zn, dtype=eager.float64, requires_grad=True)
    y = x * 1
    y *= z
    y += z
    y.pow_(2)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * (xn * zn + zn) * zn)
    np.testing.assert_allclose(z.grad.numpy(), 2 * (xn * zn + zn) * (xn + 1))


def test_inplace_on_a_non_leaf_under_jit_matches_eager():
    def step(x, z):
        y = x.clone()
        y.mul_(z)
        loss = (y * y).sum()
        loss.backward()
        return loss.detach()

    f = jit(step)
    for _ in range(3):   # trace, then replays
        x = eager.tensor([1.0, 2.0], requires_grad=True)
        z = eager.tensor([3.0, -1.0], requires_grad=True)
        assert f(x, z).item() == 13.0
        # y = [3, -2], dloss/dy = 2y: dx = 2y * z, dz = 2y * x
        assert x.grad.tolist() == [18.0, 4.0] and z.grad.tolist() == [6.0, -8.0]
    assert f.cache_info().hits == 2


def test_rules_are_told_which_inputs_need_a_gradient():
    seen = []
    rule = OPS.mul.backward

    def spy(node, g, needs):
        seen.append(needs)
        return rule(node, g, needs)

    OPS.mul.backward = spy
    try:
        w = eager.tensor([1.0, 2.0], requires_grad=True)
        (w * eager.tensor([3.0, 4.0])).sum().backward()
    finally:
        OPS.mul.backward = rule
    assert [list(n) for n in seen] == [[True, False]] and w.grad.tolist() == [3.0, 4.0]


def test_the_engine_sums_broadcast_gradients():
    a = eager.tensor([[1.0], [2.0]], requires_grad=True)
    b = eager.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (a * b + a - b).sum().backward()
    assert a.grad.tolist() == [[9.0], [9.0]] and b.grad.tolist() == [1.0, 1.0, 1.0]


def test_pow_refuses_negative_integer_exponents_through_its_own_check():
    with pytest.raises(eager.DTypeError, match="pow: integers to negative integer powers"):
        eager.tensor([2]) ** -1
    assert (eager.tensor([2.0]) ** -1).tolist() == [0.5]

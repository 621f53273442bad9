"""Each optimization pass, alone, keeps a graph's meaning (checked with the reference
interpreter on generated programs) and does its specific job."""
import numpy as np
import pytest
from hypothesis import given, settings

import eager
import tracer
from jit.passes import PASSES, cse, dce, fold_constants, fuse, fusion_groups, simplify
from tests.jit_programs import (
    make_inputs,
    make_typed_inputs,
    programs,
    run_program,
    run_typed_program,
    typed_programs,
)


@settings(max_examples=15)
@given(programs())
def test_every_pass_alone_preserves_the_interpreted_result(prog):
    shapes, program = prog
    graph = tracer.trace(lambda *xs: run_program(program, xs), *make_inputs(shapes, 0))
    inputs = make_inputs(shapes, 1)
    want = graph(*inputs).numpy()
    for name, run in PASSES.items():
        new = run(graph).verify()
        np.testing.assert_allclose(new(*inputs).numpy(), want, rtol=1e-12, err_msg=name)
        # fuse may copy cheap elementwise nodes into the groups that read them
        # (jit.passes.remat), so only its top-level node count is bounded.
        grown = len(new.nodes) if name == "fuse" else len(names(new))
        assert grown <= len(graph.nodes), name


@settings(max_examples=15)
@given(typed_programs())
def test_every_pass_alone_preserves_int_bool_float16_programs(prog):
    dtype, shapes, program = prog
    graph = tracer.trace(lambda *xs: run_typed_program(program, xs),
                         *make_typed_inputs(dtype, shapes, 0))
    inputs = make_typed_inputs(dtype, shapes, 1)
    want = graph(*inputs).numpy()
    for name, run in PASSES.items():
        got = run(graph).verify()(*inputs).numpy()
        assert got.dtype == want.dtype == dtype, name
        np.testing.assert_array_equal(got, want, err_msg=name)


def names(graph):
    """The primitive ops in program order (inside fused Kernel nodes too)."""
    return [n.op.name for n in tracer.walk(graph) if not n.subgraphs]


def test_dce_keeps_random_draws_and_drops_unused_math():
    gen = eager.Generator(seed=0)

    def f(x):
        eager.rand(2, generator=gen)     # unused, but it advances the generator
        x.exp()
        return x + 1.0

    g = dce(tracer.trace(f, eager.ones(2)))
    assert names(g) == ["uniform", "add"]


def test_cse_merges_equal_expressions_but_not_random_draws():
    gen = eager.Generator(seed=0)
    g = cse(tracer.trace(lambda x: (x.exp() * x.exp()) + eager.rand(2, generator=gen)
                         + eager.rand(2, generator=gen), eager.ones(2)))
    assert names(g).count("exp") == 1 and names(g).count("uniform") == 2


def test_fold_precomputes_constants_but_never_tensors_bound_by_reference():
    w = eager.tensor([1.0, 2.0])

    def f(x):
        c = eager.tensor([3.0, 4.0]) * 2.0 + 1.0     # constant: folded
        return x * c + w * 2.0                        # w may change between calls: kept

    g = fold_constants(tracer.trace(f, eager.ones(2)))
    assert names(g) == ["mul", "mul", "add"]
    assert any(v.kind == "const" and v.data.tolist() == [7.0, 9.0] for v in g.inputs)
    with eager.no_grad():
        w.mul_(10.0)
    assert g(eager.ones(2)).tolist() == [27.0, 49.0]


@pytest.mark.parametrize("fn,expected", [
    (lambda x: (x * 1.0).exp(), ["exp"]),
    (lambda x: (1.0 * x + -0.0).exp(), ["exp"]),
    (lambda x: (-0.0 + x * 1).exp(), ["exp"]),
    # x + 0.0 is not x: -0.0 + 0.0 is +0.0, so only -0.0 is the additive identity.
    (lambda x: (x + 0.0).exp(), ["add", "exp"]),
    (lambda x: (x + eager.tensor(0.0)).exp(), ["add", "exp"]),
    (lambda x: (x - 0.0).exp() / 1.0, ["exp", "div"]),
    (lambda x: eager.negative(eager.negative(x)).exp(), ["exp"]),
    (lambda x: x.T.T.exp(), ["exp"]),
    (lambda x: x.permute(1, 0).permute(1, 0).permute(1, 0).exp(), ["permute", "exp"]),
    (lambda x: x.reshape(6).reshape(3, 2).exp(), ["reshape", "exp"]),
    (lambda x: x.reshape(6).reshape(2, 3).exp(), ["exp"]),
    (lambda x: eager.broadcast_to(x, (2, 3)).exp(), ["exp"]),
])
def test_simplify_identities(fn, expected):
    x = eager.tensor(np.arange(6.0).reshape(2, 3))
    g = simplify(tracer.trace(fn, x))
    assert names(g) == expected
    np.testing.assert_allclose(g(x).numpy(), fn(x).numpy())


def test_simplify_keeps_the_sign_of_negative_zero():
    x = eager.tensor([-0.0, 1.0])
    g = simplify(tracer.trace(lambda x: -((x + 0.0) * 1.0), x))
    assert names(g) == ["add", "neg"]
    assert np.signbit(g(x).numpy()[0])        # -(-0.0 + 0.0) is -0.0; -(-0.0) would be +0.0
    g = simplify(tracer.trace(lambda x: -((x - 0.0) + -0.0), x))
    assert names(g) == ["neg"] and not np.signbit(g(x).numpy()[0])


def test_simplify_uses_integer_zero_on_integer_tensors():
    g = simplify(tracer.trace(lambda x: x + 0, eager.tensor([1, 2])))
    assert names(g) == ["add"]   # the returned value keeps a node of its own
    g = simplify(tracer.trace(lambda x: (x + 0) * 2, eager.tensor([1, 2])))
    assert names(g) == ["mul"]


def test_simplify_keeps_x_times_one_when_it_broadcasts_or_changes_dtype():
    g = simplify(tracer.trace(lambda x, y: (x * y).exp(), eager.ones(3), eager.ones(2, 3)))
    assert names(g) == ["mul", "exp"]
    g = simplify(tracer.trace(lambda x, y: (x * y).exp(), eager.ones(3, dtype=eager.int32),
                              eager.ones((), dtype=eager.int64)))
    assert names(g) == ["mul", "cast", "exp"]     # int32 * int64 -> int64: mul stays


def test_fusion_groups_are_maximal_and_stop_at_other_shapes_and_readers():
    def f(x, b):
        y = (x * 2.0 + 1.0).tanh()      # group 1 (shape 4x3)
        s = y.sum(axis=0, keepdims=True)  # a small column reduction: a group of its own
        z = (y - s).exp() * b           # group 3 (y is read by the sum, so group 1 closed)
        return z

    g = fuse(tracer.trace(f, eager.ones(4, 3), eager.ones(3)))
    groups = [[n.op.name for n in grp] for grp in fusion_groups(g)]
    assert groups == [["mul", "add", "tanh"], ["sum"], ["sub", "exp", "mul"]]


def test_fusion_keeps_a_row_reduction_and_its_readers_in_one_group():
    def f(x, b):
        y = (x * 2.0 + 1.0).tanh()
        s = y.sum(axis=1, keepdims=True)  # over the last axis: one value per row
        return (y - s).exp() * b, s

    g = fuse(tracer.trace(f, eager.ones(4, 3), eager.ones(3)))
    groups = [[n.op.name for n in grp] for grp in fusion_groups(g)]
    assert groups == [["mul", "add", "tanh", "sum", "sub", "exp", "mul"]]


def test_fusion_does_not_read_a_reduction_without_keepdims_as_a_row_value():
    # s has shape (3,): (y - s) broadcasts it along the rows, not across them
    g = fuse(tracer.trace(lambda y: y - y.sum(axis=1), eager.ones(3, 3)))
    groups = [[n.op.name for n in grp] for grp in fusion_groups(g)]
    assert groups == [["sum"], ["sub"]]


def test_fusion_joins_independent_chains_of_one_shape():
    # GELU's two halves (0.5 * x and the tanh of a polynomial in x) only meet at the last
    # mul; each starts from the input, yet all of it is one kernel.
    def gelu(x):
        return 0.5 * x * (1.0 + (0.79788456 * (x + 0.044715 * x * x * x)).tanh())

    g = fuse(tracer.trace(gelu, eager.ones(5)))
    assert len(g.nodes) == 1 and [len(grp) for grp in fusion_groups(g)] == [len(names(g))]
    x = eager.tensor(np.linspace(-4, 4, 5, dtype=np.float32))
    np.testing.assert_allclose(g(x).numpy(), gelu(x).numpy(), rtol=1e-6)


def test_fusion_keeps_unrelated_chains_apart_so_a_reduction_still_fuses():
    def f(x, y):
        a = x.exp()                      # group 1 reads x
        s = (y * 2.0).sum()              # reads only y: a group of its own, ending in sum
        return a + s, (x.sin() - s)      # x.sin() reads x, as group 1 does: it joins

    x, y = eager.tensor([0.5, -1.0, 2.0]), eager.tensor([1.0, 2.0, 3.0])
    g = fuse(tracer.trace(f, x, y))
    groups = [[n.op.name for n in grp] for grp in fusion_groups(g)]
    assert groups == [["mul", "sum"], ["exp", "add", "sin", "sub"]]
    for got, want in zip(g(x, y), f(x, y)):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)


def test_fusion_never_groups_across_a_node_that_reads_the_group():
    def f(x):
        a = x.exp()
        m = a.max(axis=0, keepdims=True)
        return (a * m).sin()

    g = fuse(tracer.trace(f, eager.ones(2, 2)))
    order = names(g)
    assert order.index("max") < order.index("sin")
    x = eager.tensor([[0.1, 0.2], [0.3, 0.4]])
    np.testing.assert_allclose(g(x).numpy(), f(x).numpy())


def test_simplify_writes_a_transposed_product_as_the_product_of_transposes():
    x, dy = eager.tensor(np.arange(6.0).reshape(3, 2)), eager.tensor(np.arange(12.0).reshape(3, 4))
    g = simplify(tracer.trace(lambda x, dy: (x.T @ dy).T * 2.0, x, dy))
    # (x.T @ dy).T == dy.T @ x: the x.T.T cancels, and the product comes out [4, 2] as is
    assert names(g) == ["permute", "matmul", "mul"]
    matmul = g.nodes[1]
    assert matmul.inputs[1] is g.inputs[0] and matmul.out.shape == (4, 2)
    np.testing.assert_array_equal(g(x, dy).numpy(), (x.numpy().T @ dy.numpy()).T * 2.0)


def test_simplify_keeps_a_product_that_is_also_read_untransposed():
    def f(a, b):
        p = a @ b
        return p.T, p + 1.0

    a, b = eager.tensor(np.arange(6.0).reshape(2, 3)), eager.tensor(np.arange(12.0).reshape(3, 4))
    g = simplify(tracer.trace(f, a, b))
    assert names(g) == ["matmul", "permute", "add"]
    got = g(a, b)
    np.testing.assert_array_equal(got[0].numpy(), (a.numpy() @ b.numpy()).T)
    np.testing.assert_array_equal(got[1].numpy(), a.numpy() @ b.numpy() + 1.0)


def test_internal_matmul_results_live_in_pooled_buffers_and_returned_ones_do_not():
    from jit import jit

    def f(a, b):
        h = (a @ b).tanh()            # internal: written into a pooled buffer with out=
        return h @ b.T, (a @ b) * 2.0  # the second product feeds a returned value

    rng = np.random.default_rng(0)
    a, b = (eager.tensor(rng.standard_normal(s).astype(np.float32)) for s in ((4, 3), (3, 5)))
    jf = jit(f)
    jf(a, b)                          # traces
    second = jf(a, b)                 # replays
    exe = jf._variant_for((a, b), {}).executable
    assert exe.source.count("out=") == 1
    kept = [t.numpy().copy() for t in second]
    for got, want in zip(second, f(a, b)):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-6)
    a2 = eager.tensor(rng.standard_normal((4, 3)).astype(np.float32))
    third = jf(a2, b)
    for got, want in zip(third, f(a2, b)):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-6)
    for got, was in zip(second, kept):
        np.testing.assert_array_equal(got.numpy(), was)   # a later call changed no result


def test_optimize_names_the_pass_that_made_a_malformed_graph(monkeypatch):
    from jit import passes
    from tracer.errors import GraphError

    def breaks_ssa(graph):
        out = dce(graph)
        out.nodes = out.nodes + out.nodes[:1]   # defines a value twice
        return out

    monkeypatch.setitem(passes.PASSES, "fuse", breaks_ssa)
    g = tracer.trace(lambda x: (x * 2.0).exp(), eager.ones(3))
    with pytest.raises(GraphError, match="pass 'fuse'"):
        passes.optimize(g)
    assert [r.name for r in passes.optimize(g, disable=("fuse",))[1]] == \
        ["simplify", "fold", "cse", "dce"]

"""trace(): what gets recorded (state by reference, in-place updates, views, .grad slots,
random ops, constants, nested containers, host reads) and that a replay equals eager."""
import numpy as np
import pytest

import eager
import tracer
from tracer import GuardFailure, SignatureError, TraceError


def twice(build):
    """Two identical copies of some state, one to trace and replay, one to run eagerly."""
    return build(), build()


def assert_same(a, b, rtol=1e-6):
    if isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y, rtol)
    elif a is None or b is None:
        assert a is None and b is None
    elif isinstance(a, eager.Generator):
        assert a.get_state() == b.get_state()
    else:
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=rtol, atol=1e-6)


def replay_matches_eager(build, make_fn, arg_sets, rtol=1e-6):
    """Trace on the first args, replay the rest; the same calls eagerly give the same
    results and leave the state (what `build` returned) equal."""
    traced_state, eager_state = twice(build)
    traced_fn, eager_fn = make_fn(traced_state), make_fn(eager_state)
    graph = tracer.trace(traced_fn, *arg_sets[0])
    eager_fn(*arg_sets[0])
    for args in arg_sets[1:]:
        assert_same(graph(*args), eager_fn(*args), rtol)
    assert_same(traced_state, eager_state, rtol)
    return graph


# ---- state bound by reference ---------------------------------------------------------
def test_closure_tensor_is_read_by_reference_at_replay():
    w = eager.tensor([1., 2.])
    g = tracer.trace(lambda x: x * w, eager.ones(2))
    assert [v.label for v in g.refs] == ["w"]
    w.copy_(eager.tensor([5., 6.]))
    assert g(eager.ones(2)).tolist() == [5., 6.]


def test_inplace_update_of_bound_tensor_is_a_writeback():
    def make(state):
        def f(x):
            state[0].mul_(x)
            state[0] += 1
            return state[0].sum()
        return f

    g = replay_matches_eager(lambda: [eager.tensor([1., 2.])], make,
                             [(eager.full((2,), 2.),)] * 4)
    assert len(g.writebacks) == 1 and g.writebacks[0].target.kind == "ref"


def test_inplace_update_of_an_argument_writes_into_the_callers_tensor():
    def h(x):
        x[1:] = 0.
        return x.sum()

    g = tracer.trace(h, eager.ones(4))
    b = eager.full((4,), 2.)
    assert g(b).item() == 2.0
    assert b.tolist() == [2., 0., 0., 0.]
    assert b._version == 1


def test_write_through_a_view_updates_the_base_and_other_views():
    def make(state):
        (p,) = state

        def f(x):
            row = p[0]
            col = p.T[:, 1]
            row += x
            p.reshape(-1)[-1] = 7.
            return col * 1, p.T * 1
        return f

    replay_matches_eager(lambda: [eager.arange(6.).reshape(2, 3)], make,
                         [(eager.ones(3),), (eager.full((3,), 2.),), (eager.ones(3),)])


def test_detach_shares_memory_and_an_inplace_through_it_is_replayed():
    def make(state):
        def f(x):
            y = state[0].detach()
            y += x
            return state[0] * 1
        return f

    replay_matches_eager(lambda: [eager.zeros(3)], make, [(eager.ones(3),)] * 3)


def test_returning_an_input_returns_the_same_tensor_object():
    x = eager.ones(2)
    g = tracer.trace(lambda t: (t, t * 2), eager.ones(2))
    out = g(x)
    assert out[0] is x and out[1].tolist() == [2., 2.]


# ---- autograd and .grad slots -----------------------------------------------------------
def test_backward_inside_the_function_is_recorded():
    def make(state):
        (w,) = state

        def f(x):
            loss = ((w * x).tanh() ** 2).sum()
            loss.backward()
            g = w.grad
            w.grad = None
            return loss, g
        return f

    g = replay_matches_eager(lambda: [eager.tensor([0.5, -1., 2.], requires_grad=True)],
                             make, [(eager.randn(3),) for _ in range(4)])
    assert any(n.op.name == "tanh" for n in g.nodes)
    assert sum(n.op.name == "mul" for n in g.nodes) >= 3  # forward mul + backward muls


def test_existing_grad_is_a_ref_and_accumulation_is_written_back():
    def build():
        w = eager.tensor([1., 2.], requires_grad=True)
        (w * w).sum().backward()
        return [w]

    def make(state):
        def f(x):
            (state[0] * x).sum().backward()
            return state[0].grad * 1
        return f

    traced, eager_state = twice(build)
    g = tracer.trace(make(traced), eager.ones(2))
    grad_refs = [v for v in g.refs if isinstance(v.ref, tracer.GradOf)]
    assert len(grad_refs) == 1 and grad_refs[0].label.endswith(".grad")
    assert [(wb.slot, wb.value is not None) for wb in g.writebacks] == [("grad", True)]
    eager_fn = make(eager_state)
    eager_fn(eager.ones(2))
    for _ in range(2):
        assert_same(g(eager.ones(2)), eager_fn(eager.ones(2)))
    assert traced[0].grad.tolist() == eager_state[0].grad.tolist() == [5., 7.]


def test_grad_presence_is_guarded():
    w = eager.tensor([1., 2.], requires_grad=True)

    def f(x):
        (w * x).sum().backward()
        return w.grad * 1

    g = tracer.trace(f, eager.ones(2))
    assert [(gd.kind, gd.expected) for gd in g.guards] == [("grad_defined", False)]
    with pytest.raises(GuardFailure, match=r"w.grad was None while tracing but holds a tensor"):
        g(eager.ones(2))
    w.grad = None
    assert g(eager.ones(2)).tolist() == [1., 1.]


def test_training_step_with_manual_sgd_matches_eager_steps():
    def build():
        gen = eager.Generator(seed=3)
        return [eager.randn(3, 8, generator=gen, requires_grad=True),
                eager.zeros(8, requires_grad=True),
                eager.randn(8, 2, generator=gen, requires_grad=True)]

    def make(params):
        w1, b1, w2 = params

        def step(x, y):
            h = (x @ w1 + b1).tanh()
            loss = ((h @ w2 - y) ** 2).mean()
            loss.backward()
            with eager.no_grad():
                for p in params:
                    p -= 0.1 * p.grad
                    p.grad = None
            return loss
        return step

    gen = eager.Generator(seed=4)
    batches = [(eager.randn(5, 3, generator=gen), eager.randn(5, 2, generator=gen))
               for _ in range(5)]
    g = replay_matches_eager(build, make, batches, rtol=1e-5)
    assert len([wb for wb in g.writebacks if wb.slot == "data"]) == 3


def test_training_step_with_eager_nn_and_optim_matches_eager_steps():
    from eager import nn, optim
    F = nn.functional

    def build():
        eager.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))
        return model, optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

    def make(state):
        model, opt = state

        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss
        return step

    traced, eagerly = twice(build)
    gen = eager.Generator(seed=5)
    batches = [(eager.randn(6, 4, generator=gen), eager.randint(0, 3, (6,), generator=gen))
               for _ in range(4)]
    g = tracer.trace(make(traced), *batches[0])
    eager_step = make(eagerly)
    eager_step(*batches[0])
    for x, y in batches[1:]:
        assert_same(g(x, y), eager_step(x, y), rtol=1e-5)
    for p, q in zip(traced[0].parameters(), eagerly[0].parameters()):
        assert_same(p, q, rtol=1e-5)


# ---- random, constants, containers -----------------------------------------------------
def test_random_ops_draw_fresh_numbers_like_eager():
    def make(state):
        return lambda x: x + eager.rand(3, generator=state[0])

    g = replay_matches_eager(lambda: [eager.Generator(seed=7)], make,
                             [(eager.zeros(3),)] * 4)
    assert g.refs[0].dtype is None and g.refs[0].type_str == "rng"


def test_tensor_from_host_data_is_a_constant_snapshot():
    data = np.array([1., 2.], dtype=np.float32)

    def f(x):
        c = eager.asarray(data)
        c += 1  # must not change the constant a replay starts from
        return x + c

    g = tracer.trace(f, eager.zeros(2))
    assert len(g.consts) == 1 and g.consts[0].data.tolist() == [1., 2.]
    assert g(eager.zeros(2)).tolist() == [2., 3.]
    assert g(eager.zeros(2)).tolist() == [2., 3.]


def test_nested_inputs_and_outputs_keep_their_structure():
    def f(batch, scale):
        a, (b,) = batch["pair"]
        return {"sum": a + b, "parts": [a * scale, scale]}

    args = ({"pair": (eager.ones(2), [eager.ones(2)])}, 3.0)
    g = tracer.trace(f, *args)
    assert g.signature() == "(batch: {'pair': (f32[2], [f32[2]])}, scale=3.0)"
    out = g({"pair": (eager.full((2,), 2.), [eager.ones(2)])}, 3.0)
    assert set(out) == {"sum", "parts"}
    assert out["sum"].tolist() == [3., 3.] and out["parts"][0].tolist() == [6., 6.]
    assert out["parts"][1] == 3.0


# ---- host reads become guards ----------------------------------------------------------
@pytest.mark.parametrize("read, kind", [
    (lambda t: bool(t.sum() > 0), "bool"),
    (lambda t: t.sum().item(), "item"),
    (lambda t: float(t.sum()), "item"),
    (lambda t: t.tolist(), "tolist"),
    (lambda t: t.numpy(), "numpy"),
    (lambda t: t[t > 0], "shape"),
])
def test_each_host_read_is_a_guard_with_the_source_line(read, kind):
    def f(x):
        read(x)
        return x * 2

    g = tracer.trace(f, eager.tensor([1., 2.]))
    assert [gd.kind for gd in g.guards] == [kind]
    assert "test_tracer_trace.py" in g.guards[0].where
    assert g(eager.tensor([1., 2.])).tolist() == [2., 4.]
    with pytest.raises(GuardFailure, match="while tracing"):
        g(eager.tensor([-1., -3.]))


def test_failed_guard_leaves_no_side_effects():
    w = eager.zeros(2)

    def f(x):
        w.add_(x)
        if x.sum() > 0:
            return w * 1
        return w * 0

    g = tracer.trace(f, eager.ones(2))
    before = w.tolist()
    with pytest.raises(GuardFailure):
        g(-eager.ones(2))
    assert w.tolist() == before


def test_guard_line_points_at_the_branch():
    def f(x):
        if x.max() > 1:  # the branch
            return x
        return -x

    g = tracer.trace(f, eager.tensor([3.]))
    assert g.guards[0].where.endswith("if x.max() > 1:  # the branch")


# ---- signatures --------------------------------------------------------------------------
def test_bad_replay_inputs_name_the_expected_signature():
    g = tracer.trace(lambda x, y, n: x * y + n, eager.ones(2, 3), eager.ones(3), 2)
    sig = r"graph expects \(x: f32\[2,3\], y: f32\[3\], n=2\)"
    with pytest.raises(SignatureError, match=sig + "; got 2 positional arguments, expected 3"):
        g(eager.ones(2, 3), eager.ones(3))
    with pytest.raises(SignatureError, match=sig + r"; y has shape \(4,\), expected \(3,\)"):
        g(eager.ones(2, 3), eager.ones(4), 2)
    with pytest.raises(SignatureError, match=sig + "; x has dtype float64, expected float32"):
        g(eager.ones(2, 3, dtype=eager.float64), eager.ones(3), 2)
    with pytest.raises(SignatureError, match="n is 5, but the graph was traced with 2"):
        g(eager.ones(2, 3), eager.ones(3), 5)
    with pytest.raises(SignatureError, match=r"y is \[1.0, 2.0, 3.0\], expected f32\[3\]"):
        g(eager.ones(2, 3), [1., 2., 3.], 2)
    with pytest.raises(SignatureError, match="requires_grad=True, expected False"):
        g(eager.ones(2, 3, requires_grad=True), eager.ones(3), 2)


def test_bound_tensor_that_changed_type_fails_a_guard():
    w = eager.ones(2)
    g = tracer.trace(lambda x: x + w, eager.ones(2))
    w._data = np.ones(3, np.float32)
    with pytest.raises(GuardFailure, match=r"bound tensor was f32\[2\] while tracing but is "
                                           r"f32\[3\]"):
        g(eager.ones(2))


def test_aliased_arguments_are_refused():
    x = eager.ones(2)
    with pytest.raises(TraceError, match="passed twice"):
        tracer.trace(lambda a, b: a + b, x, x)


def test_trace_inside_a_trace_is_recorded_by_both():
    """The inner tracer sits above the outer one on the interpreter stack: each records
    the ops run while it is there, so both graphs replay their own side effects."""
    w = eager.zeros(2)
    inner_graphs = []

    def outer(a):
        b = a * 2
        inner_graphs.append(tracer.trace(lambda c: (w.add_(c), c.exp())[1], b))
        return b + 1

    graph = tracer.trace(outer, eager.ones(2))
    inner = inner_graphs[0]
    assert [n.op.name for n in graph.nodes] == ["mul", "add", "exp", "add"]
    assert [n.op.name for n in inner.nodes] == ["add", "exp"]
    assert len(graph.writebacks) == 1 and len(inner.writebacks) == 1
    assert eager.dispatch.get_hook() is None
    assert graph(eager.ones(2)).tolist() == [3.0, 3.0] and w.tolist() == [4.0, 4.0]
    assert np.allclose(inner(eager.full((2,), 5.0)).numpy(), np.exp(5.0))
    assert w.tolist() == [9.0, 9.0]


# ---- graphs called inside a trace ------------------------------------------------------
def test_graph_called_inside_a_trace_is_recorded_op_by_op():
    def make(state):
        w, gen = state

        def inner(x):
            w.add_(x * eager.rand(2, generator=gen))
            if w.sum() > -100:
                return w * 2
            return w

        inner_graph = tracer.trace(inner, eager.ones(2))

        def outer(x):
            return inner_graph(x).sum() + x.tolist()[0]
        return outer

    def build():
        return [eager.tensor([1., 2.]), eager.Generator(seed=11)]

    traced, eager_state = twice(build)
    outer_fn = make(traced)
    g = tracer.trace(outer_fn, eager.ones(2))
    assert [gd.kind for gd in g.guards] == ["bool", "tolist"]
    assert len(g.writebacks) == 1
    eager_fn = make(eager_state)
    eager_fn(eager.ones(2))
    for _ in range(3):
        assert_same(g(eager.ones(2)), eager_fn(eager.ones(2)))
    assert_same(traced, eager_state)


def test_kernel_failure_during_replay_names_the_node_and_its_line():
    def f(x, idx):
        return x[idx] * 2  # indexed here

    g = tracer.trace(f, eager.ones(3), eager.tensor([0, 2]))
    with pytest.raises(eager.EagerError, match=r"replay of f failed at `%2: f32\[2\] = index %0 %1 "
                                               r".*` \(traced at test_tracer_trace.py:\d+: "
                                               r"return x\[idx\] \* 2  # indexed here\): "
                                               r"IndexError: index 5 is out of bounds"):
        g(eager.ones(3), eager.tensor([0, 5]))


def test_bound_inputs_are_labelled_with_the_names_the_code_uses():
    from eager import nn
    model = nn.Linear(2, 1)
    scale = [eager.ones(1), eager.full((1,), 2.)]

    def f(x):
        return model(x) * scale[1]

    g = tracer.trace(f, eager.ones(3, 2))
    assert sorted(v.label for v in g.refs) == ["model.bias", "model.weight", "scale[1]"]

    class Scaler:
        def __init__(self):
            self.w = eager.ones(2)

        def __call__(self, x):
            return x * self.w

    assert tracer.trace(Scaler(), eager.ones(2)).refs[0].label == "self.w"


# ---- sharp edges, written down -----------------------------------------------------------
def test_python_side_effects_happen_once_while_tracing():
    log = []

    def f(x):
        log.append("called")
        return x + 1

    g = tracer.trace(f, eager.ones(2))
    g(eager.ones(2))
    g(eager.ones(2))
    assert log == ["called"]


def test_state_is_bound_by_object_not_by_attribute():
    class Holder:
        w = eager.ones(2)

    g = tracer.trace(lambda x: x * Holder.w, eager.ones(2))
    Holder.w.copy_(eager.full((2,), 3.))           # in place: seen by the replay
    assert g(eager.ones(2)).tolist() == [3., 3.]
    Holder.w = eager.full((2,), 5.)                 # rebinding: the graph keeps the old one
    assert g(eager.ones(2)).tolist() == [3., 3.]


def test_replay_outputs_are_differentiable_like_eager():
    def make(state):
        return lambda x: ((x * state[0]).tanh() ** 2).sum()

    traced, eagerly = twice(lambda: [eager.tensor([0.3, -2.], requires_grad=True)])
    g = tracer.trace(make(traced), eager.ones(2))
    x = eager.tensor([0.5, 1.5])
    out, expected = g(x), make(eagerly)(x)
    assert out.requires_grad and out.grad_fn is not None
    out.backward()
    expected.backward()
    assert_same(traced[0].grad, eagerly[0].grad)
    with eager.no_grad():  # nothing to record: the fast kernel-only replay
        assert not g(x).requires_grad


def test_inplace_write_to_a_view_made_outside_the_function_is_refused():
    base = eager.zeros(2, 3)
    row = base[0]

    def f(x):
        row.add_(x)
        return base.sum()

    with pytest.raises(TraceError, match=r"the inputs row, base share memory through a view "
                                         r"made outside the function"):
        tracer.trace(f, eager.ones(3))
    g = tracer.trace(lambda x: row * x + base[1], eager.ones(3))  # reading both is fine
    assert g(eager.ones(3)).tolist() == [1., 1., 1.]

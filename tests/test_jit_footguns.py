"""The sharp edges of capture-and-replay JITs, one test each: the result is right, or the
behaviour is the documented one and a clear message or check says so."""
import logging
import warnings

import numpy as np
import pytest

import eager
import jit as jit_package
from jit import jit


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "cache"))


def test_branch_on_a_tensor_value_is_guarded_not_frozen():
    f = jit(lambda x: x * 2 if x.max() > 1 else x * -1)
    assert f(eager.tensor([3.0])).tolist() == [6.0]
    assert f(eager.tensor([0.5])).tolist() == [-0.5]      # guard fails -> eager, new variant
    assert f(eager.tensor([0.5])).tolist() == [-0.5]      # replay of the second variant
    assert f.cache_info().variants == 2


def test_branch_on_python_state_is_frozen_and_check_mode_reports_it():
    flags = {"double": True}
    f = jit(lambda x: x * 2 if flags["double"] else x)
    x = eager.ones(2)
    f(x)
    flags["double"] = False
    assert f(x).tolist() == [2.0, 2.0]     # the traced branch: Python state is not guarded
    checked = jit(lambda x: x * 2 if flags["double"] else x, check=True)
    flags["double"] = True
    checked(x)
    flags["double"] = False
    with pytest.raises(jit_package.JitCheckError, match="froze"):
        checked(x)


def test_python_constants_in_closures_are_frozen_but_tensors_are_read_live():
    scale = 2.0
    bias = eager.zeros(2)

    def f(x):
        return x * scale + bias

    jitted = jit(f)
    x = eager.ones(2)
    jitted(x)
    scale = 10.0
    with eager.no_grad():
        bias.add_(1.0)        # an in-place change to a closure tensor is seen
    assert jitted(x).tolist() == [3.0, 3.0]


def test_rebinding_a_closure_name_to_a_new_tensor_is_not_seen():
    state = {"w": eager.ones(2)}
    f = jit(lambda x: x * state["w"])
    x = eager.ones(2)
    f(x)
    state["w"] = eager.full((2,), 5.0)     # a new object: the graph still reads the old one
    assert f(x).tolist() == [1.0, 1.0]
    state["w"] = eager.ones(2)
    with eager.no_grad():
        state["w"].mul_(1.0)


def test_python_side_effects_run_only_while_tracing_tensor_effects_every_call():
    printed = []
    total = eager.zeros(())

    @jit
    def f(x):
        printed.append("traced")
        with eager.no_grad():
            total.add_(x.sum())
        return x

    for _ in range(3):
        f(eager.ones(2))
    assert printed == ["traced"]
    assert total.item() == 6.0


def test_method_caches_are_per_instance():
    class Model:
        def __init__(self, k):
            self.k = k

        @jit
        def forward(self, x):
            return x + self.k

    a, b = Model(1.0), Model(100.0)
    x = eager.zeros(1)
    assert [a.forward(x).item(), b.forward(x).item()] == [1.0, 100.0]
    assert [a.forward(x).item(), b.forward(x).item()] == [1.0, 100.0]
    assert Model.forward.cache_info().misses == 0
    assert a.forward.cache_info().misses == 1 and b.forward.cache_info().misses == 1


def test_outputs_are_never_overwritten_by_a_later_call():
    f = jit(lambda x: (x * 2.0).exp())
    first = f(eager.zeros(3))
    second = f(eager.zeros(3))
    third = f(eager.ones(3))
    assert first.tolist() == [1.0] * 3 and second.tolist() == [1.0] * 3
    assert not np.shares_memory(first.numpy(), third.numpy())


def test_intermediate_buffers_are_reused_but_never_returned():
    def g(x):
        y = (x * 2.0).exp()
        s = y.sum(axis=0, keepdims=True)
        return (y / s).tanh()

    f = jit(g)
    outs = [f(eager.ones(4, 4) * float(i)) for i in range(3)]
    for i, out in enumerate(outs):
        np.testing.assert_allclose(out.numpy(), g(eager.ones(4, 4) * float(i)).numpy(),
                                   rtol=1e-6)


def test_returning_an_input_returns_that_same_tensor_as_eager_does():
    f = jit(lambda x, y: (x, y * 2))
    x, y = eager.ones(2), eager.ones(2)
    f(x, y)
    out, _ = f(x, y)
    assert out is x


def test_same_tensor_passed_twice_is_traced_eagerly_and_correct():
    def f(a, b):
        a.mul_(2.0)
        return b + 1.0

    jitted = jit(f)
    x = eager.ones(2)
    with pytest.warns(RuntimeWarning, match="passed twice"):
        assert jitted(x, x).tolist() == [3.0, 3.0]
    y, z = eager.ones(2), eager.ones(2)
    assert jitted(y, z).tolist() == [2.0, 2.0]     # traced with separate tensors
    w = eager.ones(2)
    assert jitted(w, w).tolist() == [3.0, 3.0]     # aliasing detected: eager again
    assert jitted.cache_info().eager_calls == 2


def test_in_place_update_through_a_view_updates_the_base():
    def f(x):
        row = x[0]
        row.mul_(10.0)
        return x.sum()

    jitted = jit(f)
    for _ in range(2):
        a, b = eager.ones(2, 2), eager.ones(2, 2)
        assert jitted(a).item() == f(b).item() == 22.0
        assert a.tolist() == b.tolist() == [[10.0, 10.0], [1.0, 1.0]]


def test_list_and_dict_inputs_and_outputs_keep_their_structure():
    @jit
    def f(batch):
        return {"sum": batch["x"] + batch["ys"][0], "prod": [batch["x"] * batch["ys"][-1]]}

    batch = {"x": eager.ones(2), "ys": [eager.full((2,), 2.0), eager.full((2,), 3.0)]}
    f(batch)
    out = f(batch)
    assert out["sum"].tolist() == [3.0, 3.0] and out["prod"][0].tolist() == [3.0, 3.0]
    f({"x": eager.ones(2), "ys": [eager.ones(2)]})
    assert f.cache_info().reasons[-1].startswith("argument structure")


def test_shape_changes_retrace_with_a_log_line_and_warn_after_too_many(caplog):
    caplog.set_level(logging.INFO, logger="jit")
    f = jit(lambda x: x * 2, max_variants=2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for n in (1, 2, 3, 4):
            assert f(eager.ones(n)).tolist() == [2.0] * n
    assert "retracing because x.shape[0]: 1 -> 2" in caplog.text
    assert sum("static_argnames" in str(w.message) for w in caught) == 1


def test_requires_grad_output_is_not_silently_detached():
    w = eager.ones(2, requires_grad=True)
    f = jit(lambda x: (x * w).sum())
    with pytest.warns(RuntimeWarning, match="autograd history"):
        loss = f(eager.ones(2))
    loss.backward()
    assert w.grad.tolist() == [1.0, 1.0]


def test_a_call_while_another_thread_replays_runs_eagerly():
    f = jit(lambda x: (x * 3.0).exp())
    x = eager.zeros(4)
    f(x)
    lock = f._variant_for((x,), {}).executable.replay.__globals__["_lock"]
    with lock:                       # as if another thread were inside the replay
        assert f(x).tolist() == [1.0] * 4
    assert f.cache_info().eager_calls == 1
    assert f(x).tolist() == [1.0] * 4 and f.cache_info().hits == 1


def test_a_bad_index_on_replay_raises_the_same_named_error_as_eager():
    f = jit(lambda x, i: x[i] * 2)
    x = eager.ones(3)
    f(x, eager.tensor([1]))
    with pytest.raises(eager.ShapeError, match=r"out of bounds.*test_jit_footguns.py"):
        f(x, eager.tensor([5]))
    assert f(x, eager.tensor([2])).tolist() == [2.0]


def test_random_draws_before_a_failed_guard_are_not_lost():
    def make(gen):
        def f(x):
            r = eager.rand(3, generator=gen)
            if r.sum() > 1.5:            # the branch depends on the draw
                return x + r
            return x - r
        return f

    gen, gen_eager = eager.Generator(seed=3), eager.Generator(seed=3)
    jitted, reference = jit(make(gen)), make(gen_eager)
    x = eager.zeros(3)
    for _ in range(12):
        np.testing.assert_allclose(jitted(x).numpy(), reference(x).numpy(), rtol=1e-6)
    assert jitted.cache_info().variants == 2
    assert eager.rand(2, generator=gen).tolist() == eager.rand(2, generator=gen_eager).tolist()


def test_train_and_eval_of_a_jitted_module_are_separate_variants():
    from eager import nn

    model = nn.Sequential(nn.Dropout(0.5))
    fast = jit(model)
    x = eager.ones(1000)
    with eager.no_grad():
        trained = fast(x)
        model.eval()
        evaluated = fast(x)
        again = fast(x)
    assert 0 < (trained.numpy() == 0).sum() < 1000       # dropout active
    assert evaluated.tolist() == again.tolist() == [1.0] * 1000
    assert fast.cache_info().reasons[-1] == "module mode: train -> eval (train()/eval())"


def test_train_and_eval_of_a_module_captured_in_a_closure_are_guarded():
    from eager import nn

    model = nn.Sequential(nn.Dropout(0.5))
    f = jit(lambda x: model(x))        # not an argument: reading .training is a guard
    x = eager.ones(100)
    with eager.no_grad():
        f(x)
        model.eval()
        assert f(x).tolist() == [1.0] * 100      # the guard failed: retraced in eval mode
        assert "guard failed" in f.cache_info().reasons[-1]
        g = jit(lambda x, m: m(x))               # pass it as an argument instead
        assert g(x, model).tolist() == [1.0] * 100

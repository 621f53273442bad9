"""The fusion pass merges finished groups of one shape into one kernel where that is
safe: a group that reads another's values, and small groups (bias and scalar updates)
whose cost is the call. Merged graphs give the reference interpreter's results."""
import numpy as np

import eager
import tracer
from jit import jit
from jit.passes import fusion
from jit.passes.fusion import fuse, fusion_groups


def names(groups):
    return [[n.op.name for n in grp] for grp in groups]


def test_a_node_reading_two_groups_of_its_shape_makes_them_one_kernel():
    def f(x, y):
        a = x.exp()          # group A reads x
        b = y.sin()          # group B reads y (nothing in common with A)
        return a * b         # reads both: A, B and the mul are one kernel

    x, y = eager.ones(5000), eager.ones(5000)
    groups = fusion_groups(fuse(tracer.trace(f, x, y)))
    assert sorted(map(sorted, names(groups))) == [["exp", "mul", "sin"]]


def test_small_unrelated_groups_share_one_kernel_but_big_ones_do_not():
    def f(x, y):
        return x.exp() + 1.0, y.sin() * 2.0

    for size, kernels in ((64, 1), (fusion.SMALL_GROUP + 1, 2)):
        x, y = eager.ones(size), eager.ones(size)
        g = fuse(tracer.trace(f, x, y))
        assert len(fusion_groups(g)) == kernels, size
        got = g(eager.full((size,), 0.5), eager.full((size,), 0.25))
        np.testing.assert_allclose(got[0].numpy(), np.exp(0.5) + 1.0, rtol=1e-6)
        np.testing.assert_allclose(got[1].numpy(), np.sin(0.25) * 2.0, rtol=1e-6)


def test_a_group_is_not_delayed_past_a_node_that_reads_it():
    def f(x, y):
        a = x.exp()                 # small group 1
        m = a.max()                 # reads group 1 before group 2 exists
        b = (y * m).sin()           # small group 2, reading m
        return a, b

    x, y = eager.tensor([0.1, 0.2, 0.3]), eager.tensor([1.0, 2.0, 3.0])
    g = fuse(tracer.trace(f, x, y))
    order = [n.op.name for n in g.nodes]
    assert len(fusion_groups(g)) >= 2 and order.count("kernel") >= 2
    for got, want in zip(g(x, y), f(x, y)):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)


def test_an_optimizer_step_has_fewer_kernels_and_the_same_result():
    def run(merge):
        eager.manual_seed(0)
        model = eager.nn.Sequential(eager.nn.Linear(8, 16), eager.nn.Tanh(),
                                    eager.nn.LayerNorm(16), eager.nn.Linear(16, 4))
        opt = eager.optim.AdamW(model.parameters(), lr=1e-2)

        def step(x):
            loss = (model(x) ** 2).mean()
            loss.backward()
            opt.step()
            opt.zero_grad()
            return loss.detach()

        f = jit(step, disable=() if merge else ("fuse",))
        x = eager.randn(32, 8)
        losses = [f(x).item() for _ in range(3)]
        return losses, f.graph_for(x)

    merged_losses, merged = run(True)
    plain_losses, _ = run(False)
    np.testing.assert_allclose(merged_losses, plain_losses, rtol=1e-5)
    kernels = sum(1 for n in merged.nodes if n.op.name == "kernel")
    small = [grp for grp in fusion_groups(merged) if grp[0].out.shape == (16,)]
    assert kernels and len(small) <= 3   # LayerNorm/bias updates of shape (16,) merged

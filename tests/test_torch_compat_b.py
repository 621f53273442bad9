"""Issue #11, part B: Tensor methods, torch functions and negative-index semantics, as
small PyTorch-style programs run with `import eager as torch`.

Values are checked against numpy or explicit expected values; where PyTorch is installed,
the same program is also run on it (`real_torch`) and compared. Gradients of every new
differentiable function are checked against finite differences in float64, and a few
programs run under `@jit` against eager.
"""
import math

import numpy as np
import pytest

import eager as torch
from eager.autograd import gradcheck
from jit import jit

try:
    import torch as real_torch
except ImportError:
    real_torch = None

needs_torch = pytest.mark.skipif(real_torch is None, reason="PyTorch is not installed")
rng = np.random.default_rng(0)


def f64(*shape, low=-1.0, high=1.0, grad=True):
    return torch.tensor(rng.uniform(low, high, shape), dtype=torch.float64,
                        requires_grad=grad)


def close(t, expected, tol=1e-6):
    np.testing.assert_allclose(np.asarray(t.detach()), np.asarray(expected), rtol=tol,
                               atol=tol)


# ---- Tensor methods ----------------------------------------------------------------------
def test_data_shares_memory_outside_autograd():
    w = torch.ones(3, requires_grad=True)
    (w * 2).sum().backward()
    w.data.sub_(0.5 * w.grad.data)        # an old-style SGD step
    assert w.tolist() == [0.0, 0.0, 0.0] and w.requires_grad
    assert not w.data.requires_grad
    w.data = torch.full((3,), 4.0)
    assert w.tolist() == [4.0, 4.0, 4.0] and w.is_leaf


def test_shape_and_memory_queries():
    x = torch.zeros(2, 3)
    assert (x.size(1), x.size(-1), x.dim(), x.numel(), x.element_size()) == (3, 3, 2, 6, 4)
    assert x.stride() == (3, 1) and x.t().stride() == (1, 3) and x.stride(0) == 3
    assert x.is_contiguous() and not x.t().is_contiguous() and x.t().contiguous().is_contiguous()
    assert x.is_floating_point() and not x.long().is_floating_point()
    assert torch.tensor([7]).item() == 7 and torch.tensor([[2.5]]).item() == 2.5


def test_conversions_and_types():
    x = torch.tensor([1.7, -1.2])
    assert [x.double().dtype, x.half().dtype, x.long().dtype, x.int().dtype, x.bool().dtype] \
        == [torch.float64, torch.float16, torch.int64, torch.int32, torch.bool]
    assert x.type() == "torch.FloatTensor" and x.long().type() == "torch.LongTensor"
    assert x.type(torch.float64).dtype == torch.float64
    assert x.type("torch.DoubleTensor").dtype == torch.float64
    assert x.type_as(torch.tensor([1])).tolist() == [1, -1]


def test_comparison_methods():
    a, b = torch.tensor([1, 2, 3]), torch.tensor([3, 2, 1])
    assert a.eq(b).tolist() == [False, True, False]
    assert a.ne(2).tolist() == [True, False, True]
    assert a.lt(b).tolist() == [True, False, False] and a.le(b).tolist() == [True, True, False]
    assert a.gt(b).tolist() == [False, False, True] and a.ge(2).tolist() == [False, True, True]


def test_t_mm_bmm():
    a, b = f64(2, 3), f64(3, 4)
    close(a.t(), a.detach().numpy().T)
    close(a.mm(b), a.detach().numpy() @ b.detach().numpy())
    with pytest.raises(torch.ShapeError, match="mm"):
        a.mm(a)
    with pytest.raises(torch.ShapeError, match="t:"):
        torch.zeros(2, 2, 2).t()
    x, y = f64(4, 2, 3), f64(4, 3, 5)
    close(x.bmm(y), np.matmul(x.detach().numpy(), y.detach().numpy()))
    assert gradcheck(lambda p, q: p.bmm(q), [x, y])
    assert gradcheck(torch.mm, [a, b])


def test_arithmetic_with_alpha_and_value():
    x = torch.tensor([1.0, 2.0])
    assert x.add(torch.tensor([1.0, 1.0]), alpha=3).tolist() == [4.0, 5.0]
    assert torch.add(x, 1, alpha=2).tolist() == [3.0, 4.0] and torch.sub(x, x, alpha=2).tolist() \
        == [-1.0, -2.0]
    x.add_(torch.ones(2), alpha=-0.5)
    assert x.tolist() == [0.5, 1.5]
    x.sub_(torch.ones(2), alpha=0.5)
    assert x.tolist() == [0.0, 1.0]
    x.addcmul_(torch.tensor([2.0, 2.0]), torch.tensor([3.0, 4.0]), value=0.5)
    assert x.tolist() == [3.0, 5.0]
    x.addcdiv_(torch.tensor([1.0, 1.0]), torch.tensor([2.0, 4.0]), value=2)
    assert x.tolist() == [4.0, 5.5]
    x.lerp_(torch.tensor([0.0, 0.0]), 0.5)
    assert x.tolist() == [2.0, 2.75]
    assert torch.add(torch.ones(2), 2, alpha=2).dtype == torch.float32  # weak scalars


def test_adam_update_written_with_inplace_methods():
    # The body of torch.optim.Adam's step for one parameter, as its source spells it.
    p = torch.tensor([1.0, -2.0])
    g = torch.tensor([0.5, 0.25])
    m, v = torch.zeros(2), torch.zeros(2)
    beta1, beta2, lr, eps = 0.9, 0.999, 0.1, 1e-8
    m.mul_(beta1).add_(g, alpha=1 - beta1)
    v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
    denom = (v.sqrt() / math.sqrt(1 - beta2)).add_(eps)
    p.addcdiv_(m, denom, value=-lr / (1 - beta1))
    close(p, [0.9, -2.1], tol=1e-5)


def test_narrow_unbind_chunk_split_unflatten():
    x = torch.arange(12).reshape(3, 4)
    assert x.narrow(1, 1, 2).tolist() == [[1, 2], [5, 6], [9, 10]]
    assert x.narrow(0, -1, 1).tolist() == [[8, 9, 10, 11]]
    with pytest.raises(torch.ShapeError, match="narrow"):
        x.narrow(1, 3, 2)
    assert x.unbind(1)[0].tolist() == [0, 4, 8]
    assert [t.shape for t in x.chunk(2, dim=1)] == [(3, 2), (3, 2)]
    assert [t.shape for t in x.split([1, 3], dim=1)] == [(3, 1), (3, 3)]
    assert x.unflatten(1, (2, 2)).shape == (3, 2, 2)
    assert x.flatten(0, 1).shape == (12,) and x.reshape(1, 3, 4).squeeze(0).shape == (3, 4)
    assert x[:, :1].expand(-1, 5).shape == (3, 5)
    w = f64(3, 4)
    assert gradcheck(lambda t: t.narrow(1, 1, 2) * 2, [w])
    assert gradcheck(lambda t: t.unbind(0)[1] * t.unbind(0)[2], [w])


def test_new_factories_take_dtype_and_device_from_self():
    x = torch.zeros(2, dtype=torch.float64)
    assert x.new_zeros(3).dtype == torch.float64 and x.new_zeros((2, 2)).shape == (2, 2)
    assert x.new_ones(2).tolist() == [1.0, 1.0]
    assert x.new_full((2,), 7).tolist() == [7.0, 7.0]
    assert x.new_tensor([1, 2]).dtype == torch.float64
    assert x.new_empty(4).shape == (4,)
    assert x.new_zeros(2, dtype=torch.int64).dtype == torch.int64


def test_masked_fill_attention_mask():
    # The causal mask of a GPT block, as nanoGPT writes it.
    T = 4
    att = torch.zeros(1, T, T)
    bias = torch.tril(torch.ones(T, T)).view(1, T, T)
    att = att.masked_fill(bias[:, :T, :T] == 0, float("-inf"))
    probs = att.softmax(dim=-1)
    close(probs[0, 1], [0.5, 0.5, 0, 0])
    x = torch.arange(4)
    assert x.masked_fill(x > 1, 1.7).tolist() == [0, 1, 1, 1]   # keeps int64
    y = torch.zeros(3)
    y.masked_fill_(torch.tensor([True, False, True]), 2.0)
    assert y.tolist() == [2.0, 0.0, 2.0]
    w = f64(2, 3)
    mask = torch.tensor([[True, False, True], [False, False, True]])
    assert gradcheck(lambda t: t.masked_fill(mask, 0.0), [w])
    with pytest.raises(torch.DTypeError, match="masked_fill"):
        x.masked_fill(x, 0)


def test_index_select_repeat_and_friends():
    x = torch.arange(6).reshape(2, 3)
    assert x.index_select(1, torch.tensor([2, 0])).tolist() == [[2, 0], [5, 3]]
    assert x.repeat(2, 1).tolist() == np.tile(x.numpy(), (2, 1)).tolist()
    assert torch.tensor([1, 2]).repeat(2, 2).shape == (2, 4)
    assert torch.tile(x, (2,)).tolist() == np.tile(x.numpy(), 2).tolist()
    assert x.repeat_interleave(2, dim=0).tolist() == np.repeat(x.numpy(), 2, 0).tolist()
    assert torch.repeat_interleave(torch.tensor([1, 2]), torch.tensor([2, 1])).tolist() == \
        [1, 1, 2]
    w = f64(2, 3)
    assert gradcheck(lambda t: t.index_select(1, torch.tensor([2, 0, 2])), [w])
    assert gradcheck(lambda t: t.repeat(2, 3, 1), [w])
    assert gradcheck(lambda t: t.repeat_interleave(3, dim=1), [w])


def test_reductions_and_selection_methods():
    x = torch.tensor([[1.0, 5.0, 3.0], [4.0, 2.0, 6.0]])
    assert x.argmax(1, True).tolist() == [[1], [2]] and x.argmax(dim=0).tolist() == [1, 0, 1]
    assert x.cumsum(1).tolist() == [[1.0, 6.0, 9.0], [4.0, 6.0, 12.0]]
    assert (x > 1).all(1).tolist() == [False, True] and (x > 5).any().item()
    assert x.masked_select(x > 3).tolist() == [5.0, 4.0, 6.0]
    assert x.where(x > 3, torch.zeros(1)).tolist() == [[0.0, 5.0, 0.0], [4.0, 0.0, 6.0]]
    assert (x > 4).nonzero().tolist() == [[0, 1], [1, 2]]
    assert x.sign().tolist() == [[1.0] * 3] * 2
    assert x.log_softmax(1).exp().sum(1).tolist() == pytest.approx([1.0, 1.0])
    assert x.amax(1).tolist() == [5.0, 6.0] and x.amin(dim=0).tolist() == [1.0, 2.0, 3.0]
    y = x.clone()
    y.pow_(2).clamp_(max=20.0)
    assert y.tolist() == [[1.0, 20.0, 9.0], [16.0, 4.0, 20.0]]
    assert x.clamp_min(3).tolist()[0] == [3.0, 5.0, 3.0]


def test_fills_and_random_inits():
    x = torch.empty(1000)
    x.normal_(2.0, 0.5)
    assert abs(x.mean().item() - 2.0) < 0.1 and abs(x.std().item() - 0.5) < 0.1
    x.uniform_(-1.0, 1.0)
    assert bool((x >= -1).all() and (x < 1).all())
    x.fill_(3.0)
    assert x[:2].tolist() == [3.0, 3.0]
    x.zero_()
    assert x.sum().item() == 0
    w = torch.empty(3, requires_grad=True)
    with pytest.raises(torch.AutogradError, match="normal_"):
        w.normal_()          # as in PyTorch: wrap initialisation in no_grad()
    with torch.no_grad():
        w.normal_()
    assert w.requires_grad


def test_inplace_unary_variants():
    x = torch.tensor([1.0, 4.0])
    x.sqrt_()
    assert x.tolist() == [1.0, 2.0]
    x.neg_().abs_().exp_().log_()
    close(x, [1.0, 2.0])
    y = torch.tensor([-1.0, 2.0])
    y.relu_()
    assert y.tolist() == [0.0, 2.0]


# ---- functions ---------------------------------------------------------------------------
def test_cat_and_stack_take_dim_by_position():
    a, b = torch.ones(2, 1), torch.zeros(2, 1)
    assert torch.cat([a, b], 1).shape == (2, 2) and torch.cat((a, b), dim=0).shape == (4, 1)
    assert torch.stack([a, b], 1).shape == (2, 2, 1)


def test_tril_triu():
    x = torch.arange(1.0, 10.0).reshape(3, 3)
    assert torch.tril(x).tolist() == np.tril(x.numpy()).tolist()
    assert x.triu(1).tolist() == np.triu(x.numpy(), 1).tolist()
    assert torch.tril(x, -1).tolist() == np.tril(x.numpy(), -1).tolist()
    assert torch.tril(torch.ones(2, 3, 3, dtype=torch.bool)).sum().item() == 12
    assert gradcheck(lambda t: torch.triu(t, -1), [f64(3, 4)])


def test_meshgrid():
    a, b = torch.arange(3), torch.arange(2)
    for indexing in ("ij", "xy"):
        ours = torch.meshgrid(a, b, indexing=indexing)
        ref = np.meshgrid(a.numpy(), b.numpy(), indexing=indexing)
        assert [t.tolist() for t in ours] == [r.tolist() for r in ref]
    assert [t.shape for t in torch.meshgrid([a, b, a])] == [(3, 2, 3)] * 3


@pytest.mark.parametrize("name, ref, low, high", [
    ("sinh", np.sinh, -3, 3), ("cosh", np.cosh, -3, 3), ("tan", np.tan, -1, 1),
    ("asinh", np.arcsinh, -50, 50), ("acosh", np.arccosh, 1.01, 50),
    ("atanh", np.arctanh, -0.95, 0.95), ("log1p", np.log1p, -0.9, 5),
    ("expm1", np.expm1, -3, 3), ("log2", np.log2, 0.1, 9), ("log10", np.log10, 0.1, 9),
    ("exp2", np.exp2, -3, 3), ("rsqrt", lambda v: 1 / np.sqrt(v), 0.1, 9),
    ("reciprocal", lambda v: 1 / v, 0.5, 3), ("erf", np.vectorize(math.erf), -3, 3),
    ("erfc", np.vectorize(math.erfc), -3, 3), ("atan", np.arctan, -3, 3),
    ("asin", np.arcsin, -0.95, 0.95), ("acos", np.arccos, -0.95, 0.95),
])
def test_elementwise_math_values_and_gradients(name, ref, low, high):
    x = f64(5, low=low, high=high)
    close(getattr(torch, name)(x), ref(x.detach().numpy()), tol=1e-12)
    close(getattr(x, name)(), ref(x.detach().numpy()), tol=1e-12)
    assert gradcheck(getattr(torch, name), [x])
    assert getattr(torch, name)(torch.ones(2)).dtype == torch.float32


def test_tiny_arguments_keep_their_precision():
    tiny = torch.tensor([1e-12, -1e-12], dtype=torch.float64)
    close(torch.log1p(tiny), np.log1p(tiny.numpy()), tol=1e-24)
    close(torch.expm1(tiny), np.expm1(tiny.numpy()), tol=1e-24)
    close(torch.sinh(tiny), np.sinh(tiny.numpy()), tol=1e-24)


def test_exact_gelu_from_erf():
    x = f64(7, low=-3, high=3)
    gelu = x * 0.5 * (1.0 + torch.erf(x / math.sqrt(2.0)))
    expected = [v * 0.5 * (1 + math.erf(v / math.sqrt(2))) for v in x.tolist()]
    close(gelu, expected, tol=1e-12)


def test_rounding_and_cleanup():
    x = torch.tensor([0.5, 1.5, 2.5, -0.5, -1.7, 2.567])
    assert torch.round(x).tolist() == np.round(x.numpy()).tolist()
    close(torch.round(x, decimals=1), np.round(x.numpy(), 1))
    assert torch.trunc(x).tolist() == np.trunc(x.numpy()).tolist()
    close(torch.frac(x), x.numpy() - np.trunc(x.numpy()))
    y = torch.tensor([float("nan"), float("inf"), -float("inf"), 1.0])
    assert torch.nan_to_num(y, nan=0.0, posinf=1e3, neginf=-1e3).tolist() == \
        [0.0, 1e3, -1e3, 1.0]
    assert torch.nan_to_num(y)[1].item() == np.finfo(np.float32).max
    assert torch.isnan(y).tolist() == [True, False, False, False]
    assert torch.isinf(y).tolist() == [False, True, True, False]
    assert torch.isfinite(y).tolist() == [False, False, False, True]


def test_isclose_allclose():
    a = torch.tensor([1.0, 2.0, float("nan"), float("inf")])
    b = torch.tensor([1.0 + 1e-7, 2.1, float("nan"), float("inf")])
    assert torch.isclose(a, b).tolist() == [True, False, False, True]
    assert torch.isclose(a, b, equal_nan=True).tolist() == [True, False, True, True]
    assert torch.allclose(a[:1], b[:1]) and not torch.allclose(a, b)
    assert torch.allclose(torch.ones(2), torch.ones(2) + 0.05, atol=0.1)
    assert torch.isclose(torch.tensor([1.0, float("inf")]),
                         torch.tensor([float("inf"), 1.0])).tolist() == [False, False]


def test_atan2():
    y, x = f64(6), f64(6)
    close(torch.atan2(y, x), np.arctan2(y.detach().numpy(), x.detach().numpy()), tol=1e-12)
    assert gradcheck(torch.atan2, [y, x]) and gradcheck(lambda a: a.atan2(x), [y])
    assert torch.atan2(torch.tensor([1]), torch.tensor([1])).dtype == torch.float32


def test_lerp_minimum_maximum_clamp():
    s, e = f64(4), f64(4)
    close(torch.lerp(s, e, 0.25), s.detach().numpy() + 0.25 * (e - s).detach().numpy())
    assert gradcheck(lambda a, b: torch.lerp(a, b, 0.3), [s, e])
    w = f64(4, low=0, high=1)
    assert gradcheck(torch.lerp, [s, e, w])
    assert torch.minimum(torch.tensor([1, 5]), torch.tensor([3, 2])).tolist() == [1, 2]
    assert torch.maximum(torch.tensor([1, 5]), torch.tensor([3, 2])).tolist() == [3, 5]
    assert torch.clamp(torch.tensor([-2.0, 2.0]), -1, 1).tolist() == [-1.0, 1.0]


def test_multinomial():
    g = torch.Generator(seed=3)
    probs = torch.tensor([0.1, 0.2, 0.7])
    draws = torch.multinomial(probs, 20000, replacement=True, generator=g)
    assert draws.dtype == torch.int64 and draws.shape == (20000,)
    np.testing.assert_allclose(np.bincount(draws.numpy(), minlength=3) / 20000,
                               [0.1, 0.2, 0.7], atol=0.02)
    rows = torch.tensor([[0.0, 1.0, 1.0, 0.0], [5.0, 0.0, 0.0, 1.0]])
    picked = torch.multinomial(rows, 2, generator=g)
    assert sorted(picked[0].tolist()) == [1, 2] and sorted(picked[1].tolist()) == [0, 3]
    first = torch.multinomial(probs.expand(20000, 3), 1, generator=g).reshape(-1)
    np.testing.assert_allclose(np.bincount(first.numpy(), minlength=3) / 20000,
                               [0.1, 0.2, 0.7], atol=0.02)
    with pytest.raises(torch.ArgumentError, match="without replacement"):
        torch.multinomial(probs, 4)
    a = torch.multinomial(probs, 5, True, generator=torch.Generator(seed=1))
    b = torch.multinomial(probs, 5, True, generator=torch.Generator(seed=1))
    assert a.tolist() == b.tolist()


def test_makemore_sampling_loop():
    # makemore's sampling: rows of a count matrix, normalised, sampled one at a time.
    g = torch.Generator().manual_seed(2147483647)
    N = torch.tensor([[0, 5, 5], [1, 0, 9], [9, 1, 0]])
    P = (N + 1).float()
    P /= P.sum(1, keepdims=True)
    out, ix = [], 0
    for _ in range(20):
        ix = torch.multinomial(P[ix], num_samples=1, replacement=True, generator=g).item()
        out.append(ix)
    assert all(0 <= i < 3 for i in out) and len(set(out)) > 1


def test_nanogpt_generate_loop():
    # nanoGPT's GPT.generate with a stand-in model: crop, top-k, softmax, sample, append.
    torch.manual_seed(0)
    vocab, block_size = 11, 4
    table = torch.randn(vocab, vocab)
    idx = torch.zeros((2, 1), dtype=torch.long)
    for _ in range(6):
        idx_cond = idx if idx.size(1) <= block_size else idx[:, -block_size:]
        logits = table[idx_cond][:, -1, :] / 0.8
        v, _ = torch.topk(logits, min(3, logits.size(-1)))
        logits[logits < v[:, [-1]]] = -float("Inf")
        probs = logits.softmax(dim=-1)
        idx_next = torch.multinomial(probs, num_samples=1)
        allowed = torch.topk(table[idx_cond[:, -1]], 3).indices
        assert bool((allowed == idx_next).any(dim=1).all())
        idx = torch.cat((idx, idx_next), dim=1)
    assert idx.shape == (2, 7) and idx.dtype == torch.int64
    x = torch.from_numpy(np.arange(3)).pin_memory().to("cpu", non_blocking=True)
    assert x.tolist() == [0, 1, 2] and x.nelement() == 3


def test_random_factories_take_requires_grad():
    assert torch.randn(2, 3, requires_grad=True).requires_grad
    w = torch.normal(0.0, 1.0, (3,), requires_grad=True)
    assert w.requires_grad and w.is_leaf
    mean, std = f64(4), f64(4, low=0.5, high=1.0)
    y = torch.normal(mean, std)
    assert y.shape == (4,) and y.dtype == torch.float64
    y.sum().backward()      # as in PyTorch: a sample, with zero gradients
    assert mean.grad.tolist() == [0.0] * 4 and std.grad.tolist() == [0.0] * 4
    assert abs(torch.normal(torch.full((4000,), 3.0), 2.0).std().item() - 2.0) < 0.1
    assert torch.zeros_like(torch.ones(2), dtype=torch.int64).dtype == torch.int64
    assert torch.ones_like(torch.ones(2), requires_grad=True).requires_grad
    assert torch.full_like(torch.ones(2), 3).tolist() == [3.0, 3.0]
    assert torch.randn_like(torch.ones(2, dtype=torch.float64)).dtype == torch.float64
    assert torch.rand_like(torch.ones(3)).shape == (3,)
    assert torch.randint_like(torch.ones(3), 4).dtype == torch.float32
    assert torch.arange(0, 5, dtype=torch.float32).tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert torch.bernoulli(torch.tensor([0.0, 1.0])).tolist() == [0.0, 1.0]


@pytest.mark.parametrize("equation, shapes", [
    ("ij,jk->ik", [(2, 3), (3, 4)]), ("bij,bjk->bik", [(5, 2, 3), (5, 3, 4)]),
    ("ii->i", [(3, 3)]), ("ii", [(3, 3)]), ("i,j->ij", [(3,), (4,)]), ("ij->ji", [(2, 3)]),
    ("...ij,...jk", [(2, 5, 2, 3), (5, 3, 4)]), ("bhqd,bhkd->bhqk", [(2, 3, 4, 5), (2, 3, 6, 5)]),
    ("ij,ij->", [(2, 3), (2, 3)]), ("ijk,ikl,lm->jm", [(2, 3, 4), (2, 4, 5), (5, 6)]),
    ("i,i", [(4,), (4,)]), ("iij->j", [(3, 3, 2)]), ("b i d, b j d -> b i j", [(2, 3, 4)] * 2),
])
def test_einsum_matches_numpy_with_gradients(equation, shapes):
    operands = [f64(*s) for s in shapes]
    ours = torch.einsum(equation, *operands)
    ref = np.einsum(equation.replace(" ", ""), *(o.detach().numpy() for o in operands))
    assert ours.shape == ref.shape
    close(ours, ref, tol=1e-12)
    assert gradcheck(lambda *xs: torch.einsum(equation, *xs), operands)


def test_einsum_refuses_bad_equations():
    with pytest.raises(torch.ArgumentError, match="einsum"):
        torch.einsum("ij,jk->ik", torch.ones(2, 3))
    with pytest.raises(torch.ArgumentError, match="einsum"):
        torch.einsum("ijk->i", torch.ones(2, 3))
    assert torch.einsum("ij,jk", [torch.ones(2, 3), torch.ones(3, 1)]).shape == (2, 1)


def test_matrix_functions():
    a, b, c = f64(2, 3), f64(3, 4), f64(2, 4)
    an, bn, cn = (t.detach().numpy() for t in (a, b, c))
    close(torch.addmm(c, a, b, beta=0.5, alpha=2), 0.5 * cn + 2 * an @ bn)
    assert gradcheck(lambda x, y, z: torch.addmm(x, y, z, beta=0.5, alpha=2), [c, a, b])
    x, y, z = f64(3, 2, 4), f64(3, 4, 5), f64(3, 2, 5)
    close(torch.baddbmm(z, x, y, alpha=0.5),
          z.detach().numpy() + 0.5 * np.matmul(x.detach().numpy(), y.detach().numpy()))
    assert gradcheck(torch.baddbmm, [z, x, y])
    v, w = f64(4), f64(3)
    close(torch.outer(v, w), np.outer(v.detach().numpy(), w.detach().numpy()))
    close(torch.dot(v, v), v.detach().numpy() @ v.detach().numpy())
    assert gradcheck(torch.outer, [v, w]) and gradcheck(torch.dot, [v, v])
    m = f64(4, 4)
    close(torch.diag(m), np.diag(m.detach().numpy()))
    close(torch.diag(v, 1), np.diag(v.detach().numpy(), 1))
    close(torch.diag(v, -2), np.diag(v.detach().numpy(), -2))
    close(torch.diagonal(m, -1), np.diagonal(m.detach().numpy(), -1))
    t3 = f64(2, 3, 4)
    close(torch.diagonal(t3, 0, 1, 2), np.diagonal(t3.detach().numpy(), 0, 1, 2))
    close(torch.trace(m), np.trace(m.detach().numpy()))
    for fn in (torch.diag, torch.trace, lambda t: torch.diagonal(t, 1)):
        assert gradcheck(fn, [m])
    assert gradcheck(lambda t: torch.diag(t, 1), [v])


def test_norms_and_cdist():
    x = f64(3, 4)
    xn = x.detach().numpy()
    close(torch.norm(x), np.linalg.norm(xn))
    close(x.norm(dim=1), np.linalg.norm(xn, axis=1))
    close(x.norm(p=1, dim=0), np.abs(xn).sum(0))
    close(torch.linalg.norm(x, dim=-1), np.linalg.norm(xn, axis=-1))
    close(torch.linalg.vector_norm(x, ord=3, dim=1),
          (np.abs(xn) ** 3).sum(1) ** (1 / 3))
    close(torch.linalg.vector_norm(x, float("inf")), np.abs(xn).max())
    close(torch.linalg.matrix_norm(x), np.linalg.norm(xn, "fro"))
    for ord in (1, -1, math.inf, -math.inf, "fro"):
        close(torch.linalg.norm(x, ord), np.linalg.norm(xn, ord))
        close(torch.linalg.matrix_norm(x, ord, dim=(1, 0)), np.linalg.norm(xn.T, ord))
    assert gradcheck(lambda t: torch.linalg.matrix_norm(t, 1), [x])
    for ord in (2, -2, "nuc"):          # the singular-value norms
        close(torch.linalg.norm(x, ord), np.linalg.norm(xn, ord))
    close(torch.norm(x, 1), np.abs(xn).sum())   # torch.norm: a vector norm of all elements
    for fn in (torch.norm, lambda t: t.norm(dim=1, keepdim=True),
               lambda t: torch.linalg.vector_norm(t, 3, dim=0)):
        assert gradcheck(fn, [x])
    zero = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    zero.norm().backward()
    assert zero.grad.tolist() == [0.0, 0.0, 0.0]    # a subgradient, never NaN
    a, b = f64(4, 3), f64(5, 3)
    ref = np.linalg.norm(a.detach().numpy()[:, None] - b.detach().numpy()[None], axis=-1)
    close(torch.cdist(a, b), ref)
    close(torch.cdist(a, b, p=1),
          np.abs(a.detach().numpy()[:, None] - b.detach().numpy()[None]).sum(-1))
    assert gradcheck(torch.cdist, [a, b])


def test_logsumexp_topk_argsort():
    x = f64(3, 5)
    xn = x.detach().numpy()
    close(torch.logsumexp(x, 1), np.log(np.exp(xn).sum(1)))
    assert gradcheck(lambda t: torch.logsumexp(t, dim=0), [x])
    indices = torch.topk(x, 2, dim=1).indices
    assert indices.tolist() == np.argsort(-xn, 1)[:, :2].tolist()
    assert gradcheck(lambda t: torch.topk(t, 2, dim=1).values, [x])
    assert torch.argsort(x, dim=1).tolist() == np.argsort(xn, 1).tolist()
    assert x.argsort(1, descending=True).tolist() == np.argsort(-xn, 1).tolist()


def test_flip_roll_rot90():
    x = torch.arange(6).reshape(2, 3)
    assert x.flip(0, 1).tolist() == np.flip(x.numpy(), (0, 1)).tolist()
    assert torch.flip(x, [1]).tolist() == np.flip(x.numpy(), 1).tolist()
    assert torch.roll(x, 1).tolist() == np.roll(x.numpy(), 1).tolist()
    assert torch.roll(x, -1, 1).tolist() == np.roll(x.numpy(), -1, 1).tolist()
    assert torch.roll(x, (1, 2), (0, 1)).tolist() == np.roll(x.numpy(), (1, 2), (0, 1)).tolist()
    for k in range(-1, 5):
        assert torch.rot90(x, k).tolist() == np.rot90(x.numpy(), k).tolist()
    assert torch.rot90(x, 1, (1, 0)).tolist() == np.rot90(x.numpy(), 1, (1, 0)).tolist()
    w = f64(2, 3)
    assert gradcheck(lambda t: torch.roll(t, 2, 1) * t, [w])
    assert gradcheck(lambda t: torch.rot90(t) + 0, [w])


def test_counting_and_binning():
    x = torch.tensor([3, 1, 3, 2, 3])
    assert torch.unique(x).tolist() == [1, 2, 3]
    values, inverse, counts = torch.unique(x, return_inverse=True, return_counts=True)
    assert values[inverse].tolist() == x.tolist() and counts.tolist() == [1, 1, 3]
    assert torch.bincount(x).tolist() == np.bincount(x.numpy()).tolist()
    assert torch.bincount(x, minlength=6).tolist() == np.bincount(x.numpy(), minlength=6).tolist()
    wts = torch.tensor([0.5, 1.0, 0.5, 2.0, 1.0])
    close(torch.bincount(x, weights=wts), np.bincount(x.numpy(), wts.numpy()))
    with pytest.raises(torch.ArgumentError, match="bincount"):
        torch.bincount(torch.tensor([1, -1]))
    boundaries = torch.tensor([1.0, 3.0, 5.0, 7.0])
    v = torch.tensor([0.5, 1.0, 3.0, 6.0, 8.0])
    for right in (False, True):
        side = "right" if right else "left"
        expected = np.searchsorted(boundaries.numpy(), v.numpy(), side=side).tolist()
        assert torch.searchsorted(boundaries, v, right=right).tolist() == expected
        assert torch.searchsorted(boundaries, v, side=side).tolist() == expected
    # bucketize's right= is the opposite sense of searchsorted's side, as in PyTorch.
    assert torch.bucketize(v, boundaries).tolist() == \
        np.searchsorted(boundaries.numpy(), v.numpy(), side="left").tolist()
    assert torch.bucketize(v, boundaries, right=True).tolist() == \
        np.searchsorted(boundaries.numpy(), v.numpy(), side="right").tolist()
    rows = torch.tensor([[1, 3, 5], [2, 4, 6]])
    assert torch.searchsorted(rows, torch.tensor([[3], [7]])).tolist() == [[1], [3]]
    data = torch.tensor([0.1, 0.5, 0.5, 0.9, 2.0, -1.0])
    assert torch.histc(data, bins=4, min=0, max=1).tolist() == \
        np.histogram(data.numpy(), bins=4, range=(0, 1))[0].tolist()
    assert torch.histc(torch.tensor([1.0, 2.0, 3.0, 4.0]), bins=3).tolist() == [1.0, 1.0, 2.0]


def test_statistics_and_products():
    x = f64(3, 5)
    xn = x.detach().numpy()
    close(torch.quantile(x, 0.3, dim=1), np.quantile(xn, 0.3, axis=1))
    close(torch.quantile(x, torch.tensor([0.1, 0.9]), dim=0), np.quantile(xn, [0.1, 0.9], 0))
    close(x.quantile(0.7), np.quantile(xn, 0.7))
    assert torch.quantile(x, 0.5, keepdim=True).shape == (1, 1)
    assert gradcheck(lambda t: torch.quantile(t, 0.3, dim=1), [x])
    close(torch.median(x), np.sort(xn.reshape(-1))[7])
    values, indices = x.median(1)
    close(values, np.sort(xn, 1)[:, 2])
    assert x[torch.arange(3), indices].tolist() == values.tolist()
    v, m = torch.var_mean(x, 1)
    close(v, xn.var(1, ddof=1))
    close(m, xn.mean(1))
    close(torch.std_mean(x)[0], xn.std(ddof=1))
    a, b = f64(4, 3), f64(4, 3)
    close(torch.cross(a, b), np.cross(a.detach().numpy(), b.detach().numpy()))
    assert gradcheck(torch.cross, [a, b])
    p, q = f64(2, 3), f64(4, 2)
    close(torch.kron(p, q), np.kron(p.detach().numpy(), q.detach().numpy()))
    assert gradcheck(torch.kron, [p, q])
    assert torch.tril_indices(3, 4, 1).tolist() == [list(r) for r in np.tril_indices(3, 1, 4)]
    assert torch.triu_indices(3, 3).tolist() == [list(r) for r in np.triu_indices(3)]
    u = torch.tensor([1.0, -math.inf, math.inf, 1000.0])
    w = torch.tensor([2.0, -math.inf, math.inf, 999.0])
    close(torch.logaddexp(u, w), np.logaddexp(u.numpy(), w.numpy()), tol=1e-5)
    assert gradcheck(torch.logaddexp, [f64(4), f64(4)])


def test_torch_namespace_forms():
    x = torch.tensor([[0, 3], [2, 0]])
    rows, cols = torch.where(x > 0)
    assert rows.tolist() == [0, 1] and cols.tolist() == [1, 0]
    assert x[torch.where(x > 0)].tolist() == [3, 2]
    assert [t.tolist() for t in x.nonzero(as_tuple=True)] == [[0, 1], [1, 0]]
    with pytest.raises(torch.ArgumentError, match="where"):
        torch.where(x > 0, x)
    a, b = torch.tensor([1.0, 5.0]), torch.tensor([3.0, 2.0])
    assert torch.max(a, b).tolist() == [3.0, 5.0] and torch.min(a, b).tolist() == [1.0, 2.0]
    assert torch.softmax(torch.zeros(2, 2), 1).tolist() == [[0.5, 0.5]] * 2
    close(torch.log_softmax(torch.zeros(3), 0), [-math.log(3)] * 3)
    assert torch.numel(torch.ones(2, 3)) == 6 and torch.clone(a).tolist() == a.tolist()


def test_movedim_swapaxes_unflatten_squeeze():
    x = torch.zeros(2, 3, 4)
    assert torch.movedim(x, 0, -1).shape == (3, 4, 2)
    assert torch.movedim(x, (0, 1), (2, 0)).shape == np.moveaxis(x.numpy(), (0, 1), (2, 0)).shape
    assert torch.swapaxes(x, 0, 2).shape == (4, 3, 2) and x.swapdims(1, 2).shape == (2, 4, 3)
    assert torch.zeros(2, 1, 3).squeeze(1).shape == (2, 3)


def test_scatter_and_index_writes():
    x = torch.zeros(2, 3)
    idx = torch.tensor([[2, 0], [1, 1]])
    src = torch.tensor([[1.0, 2.0, 9.0], [3.0, 4.0, 9.0]])
    ref = np.zeros((2, 3))
    np.put_along_axis(ref, idx.numpy(), src.numpy()[:, :2], axis=1)
    assert x.scatter(1, idx[:, :1], src).tolist() == [[0.0, 0.0, 1.0], [0.0, 3.0, 0.0]]
    assert torch.scatter(x, 1, idx, 5.0)[0].tolist() == [5.0, 0.0, 5.0]
    assert x.scatter(1, idx, src, reduce="add").tolist() == [[2.0, 0.0, 1.0], [0.0, 7.0, 0.0]]
    y = torch.zeros(3)
    y.scatter_(0, torch.tensor([1]), torch.tensor([4.0]))
    y.scatter_add_(0, torch.tensor([0, 0]), torch.ones(2))
    assert y.tolist() == [2.0, 4.0, 0.0]
    z = torch.zeros(3, 2)
    assert z.index_add(0, torch.tensor([0, 0, 2]), torch.ones(3, 2), alpha=2).tolist() == \
        [[4.0, 4.0], [0.0, 0.0], [2.0, 2.0]]
    z.index_fill_(1, torch.tensor([1]), -1.0)
    assert z[:, 1].tolist() == [-1.0, -1.0, -1.0]
    z.index_copy_(0, torch.tensor([2]), torch.tensor([[7.0, 8.0]]))
    assert z[2].tolist() == [7.0, 8.0]
    assert torch.take_along_dim(torch.tensor([[5, 6, 7]]), torch.tensor([[2, 0]]), 1).tolist() \
        == [[7, 5]]
    w, s = f64(2, 3), f64(2, 3)
    assert gradcheck(lambda a, b: a.scatter(1, torch.tensor([[2], [0]]), b), [w, s])
    assert gradcheck(lambda a, b: a.index_add(1, torch.tensor([0, 0, 2]), b), [w, s])
    with pytest.raises(torch.IndexOutOfRangeError, match="scatter"):
        x.scatter(1, torch.tensor([[-1]]), 1.0)
    with pytest.raises(torch.IndexOutOfRangeError, match="index_add"):
        z.index_add(0, torch.tensor([-1]), torch.ones(1, 2))


def test_scans_and_small_helpers():
    x = f64(3, 4)
    close(torch.cumprod(x, 1), np.cumprod(x.detach().numpy(), 1))
    assert torch.cumprod(torch.tensor([2, 0, 3]), 0).tolist() == [2, 0, 0]
    assert gradcheck(lambda t: torch.cumprod(t, 0), [x])
    assert torch.diff(torch.tensor([1, 4, 9, 16]), n=2).tolist() == [2, 2]
    close(x.diff(dim=0), np.diff(x.detach().numpy(), axis=0))
    assert torch.count_nonzero(torch.tensor([[0, 1], [2, 3]])).item() == 3
    assert torch.hstack([torch.ones(2, 1), torch.zeros(2, 2)]).shape == (2, 3)
    assert torch.vstack([torch.ones(3), torch.zeros(3)]).shape == (2, 3)
    assert torch.t(torch.ones(2, 3)).shape == (3, 2) and torch.ones(3).t().shape == (3,)
    assert torch.is_tensor(x) and not torch.is_tensor(1.0)
    assert [t.shape for t in torch.broadcast_tensors(torch.ones(2, 1), torch.ones(3))] == \
        [(2, 3), (2, 3)]


# ---- negative indices --------------------------------------------------------------------
def test_negative_indices_raise_as_in_torch():
    x = torch.arange(6.0).reshape(2, 3)
    with pytest.raises(torch.IndexOutOfRangeError, match=r"gather: index -1 .* \[0, 3\)"):
        x.gather(1, torch.tensor([[0], [-1]]))
    with pytest.raises(IndexError, match="gather: index 3"):
        torch.gather(x, 1, torch.tensor([[3], [0]]))
    with pytest.raises(torch.IndexOutOfRangeError, match="scatter_add: index -2"):
        torch.zeros(3).scatter_add(0, torch.tensor([0, -2]), torch.ones(2))
    with pytest.raises(torch.IndexOutOfRangeError, match="index_select: index -1"):
        x.index_select(0, torch.tensor([-1]))
    import eager.nn.functional as F
    from eager import nn

    with pytest.raises(IndexError, match="cross_entropy"):
        F.cross_entropy(torch.zeros(2, 3), torch.tensor([0, -1]))
    with pytest.raises(IndexError, match="embedding"):
        nn.Embedding(4, 2)(torch.tensor([1, -1]))
    # Plain integer-array indexing still takes negative indices, as in PyTorch.
    assert x[torch.tensor([-1])].tolist() == [[3.0, 4.0, 5.0]]


def test_negative_indices_raise_under_jit_replay_too():
    x = torch.arange(6.0).reshape(2, 3)

    @jit
    def pick(x, idx):
        return x.gather(1, idx).sum() + x.index_select(1, idx[:, 0]).sum()

    good = torch.tensor([[0], [2]])
    expected = pick(x, good).item()
    assert pick(x, good).item() == expected          # a replay
    assert pick.cache_info().hits >= 1
    with pytest.raises(torch.IndexOutOfRangeError, match="gather"):
        pick(x, torch.tensor([[0], [-1]]))
    assert pick(x, good).item() == expected


def test_cross_entropy_with_padding_target_raises_under_jit():
    import eager.nn.functional as F

    @jit
    def loss(logits, target):
        return F.cross_entropy(logits, target)

    logits = torch.zeros(3, 4)
    loss(logits, torch.tensor([0, 1, 2]))
    loss(logits, torch.tensor([0, 1, 2]))
    with pytest.raises(IndexError, match="cross_entropy"):
        loss(logits, torch.tensor([0, -1, 2]))


# ---- under @jit, against eager -----------------------------------------------------------
def test_jit_attention_block_matches_eager():
    torch.manual_seed(0)
    B, T, C = 2, 4, 8
    x = torch.randn(B, T, C)
    w = torch.randn(C, 3 * C) * 0.1
    mask = torch.tril(torch.ones(T, T)).view(1, T, T)

    def block(x):
        q, k, v = (x @ w).split(C, dim=2)
        att = torch.einsum("btc,bsc->bts", q, k) / math.sqrt(C)
        att = att.masked_fill(mask == 0, float("-inf")).softmax(dim=-1)
        y = torch.bmm(att, v)
        gelu = y * 0.5 * (1.0 + torch.erf(y / math.sqrt(2.0)))
        return gelu.norm(dim=-1) + torch.cdist(q, k).sum(-1)

    compiled = jit(block)
    expected = block(x)
    for _ in range(3):
        close(compiled(x), expected, tol=1e-5)
    assert compiled.cache_info().hits == 2


def test_jit_multinomial_draws_fresh_samples_on_each_replay():
    probs = torch.ones(50) / 50

    @jit
    def sample(p):
        return torch.multinomial(p, 5, replacement=True) + torch.roll(p, 1).argmax() * 0

    draws = [tuple(sample(probs).tolist()) for _ in range(4)]
    assert sample.cache_info().hits == 3
    assert len(set(draws)) > 1


def test_jit_training_step_with_inplace_methods_matches_eager():
    def make():
        torch.manual_seed(1)
        return torch.randn(4, 3, requires_grad=True), torch.randn(8, 4), \
            torch.randint(0, 3, (8,))

    def step(w, x, y):
        logits = x.mm(w)
        loss = -(logits.log_softmax(1).gather(1, y.unsqueeze(1))).mean()
        loss.backward()
        with torch.no_grad():
            w.add_(w.grad, alpha=-0.1)
            w.grad.zero_()
        return loss.detach()

    w1, x, y = make()
    eager_losses = [step(w1, x, y).item() for _ in range(4)]
    w2, x, y = make()
    compiled = jit(step)
    jit_losses = [compiled(w2, x, y).item() for _ in range(4)]
    np.testing.assert_allclose(jit_losses, eager_losses, rtol=1e-5)
    close(w2, w1.detach().numpy(), tol=1e-5)


def test_jit_old_style_sgd_through_data_matches_eager():
    def run(compiled, assign):
        torch.manual_seed(0)
        w = torch.randn(3, requires_grad=True)
        x, y = torch.randn(5, 3), torch.randn(5)

        def step(x, y):
            loss = ((x @ w - y) ** 2).mean()
            loss.backward()
            if assign:
                w.data = w.data - 0.1 * w.grad.data
            else:
                w.data.add_(w.grad.data, alpha=-0.1)
            w.grad = None
            return loss.detach()

        fn = jit(step) if compiled else step
        losses = [fn(x, y).item() for _ in range(4)]
        if compiled:
            assert fn.cache_info().hits == 3
        return losses, w.tolist()

    for assign in (False, True):
        (eager_losses, eager_w), (jit_losses, jit_w) = run(False, assign), run(True, assign)
        np.testing.assert_allclose(jit_losses, eager_losses, rtol=1e-5)
        np.testing.assert_allclose(jit_w, eager_w, rtol=1e-5)


# ---- against PyTorch, when installed ----
# Each program runs once with `m` = eager and once with `m` = torch on the same float64
# input; outputs (values, shapes, dtypes) and the gradients of their sum must agree.
TORCH_PROGRAMS = {
    "sinh": lambda t, m: m.sinh(t), "cosh": lambda t, m: m.cosh(t), "tan": lambda t, m: m.tan(t),
    "asinh": lambda t, m: m.asinh(t), "atan": lambda t, m: m.atan(t),
    "asin": lambda t, m: m.asin(t * 0.5), "acos": lambda t, m: m.acos(t * 0.5),
    "atan2": lambda t, m: m.atan2(t, t + 0.5), "erf": lambda t, m: m.erf(t),
    "erfc": lambda t, m: m.erfc(t), "log1p": lambda t, m: m.log1p(t.abs()),
    "expm1": lambda t, m: m.expm1(t), "rsqrt": lambda t, m: m.rsqrt(t.abs() + 0.1),
    "reciprocal": lambda t, m: m.reciprocal(t), "log2": lambda t, m: m.log2(t.abs()),
    "exp2": lambda t, m: m.exp2(t), "round": lambda t, m: m.round(t * 3),
    "frac": lambda t, m: m.frac(t * 3), "logaddexp": lambda t, m: m.logaddexp(t, t * 2),
    "lerp": lambda t, m: m.lerp(t, t * 3, 0.3), "tril": lambda t, m: m.tril(t, 1),
    "triu": lambda t, m: m.triu(t, -1), "diag": lambda t, m: m.diag(t),
    "diag_of_vector": lambda t, m: m.diag(t[0], -1), "diagonal": lambda t, m: m.diagonal(t, 1),
    "trace": lambda t, m: m.trace(t), "cdist": lambda t, m: m.cdist(t, t * 2),
    "cdist_p1": lambda t, m: m.cdist(t, t * 2, p=1), "norm": lambda t, m: m.norm(t),
    "norm_dim": lambda t, m: t.norm(dim=1), "norm_p1": lambda t, m: t.norm(1),
    "norm_at_zero": lambda t, m: (t * 0).norm(),
    "linalg_norm_inf": lambda t, m: m.linalg.norm(t, float("inf")),
    "linalg_norm_1": lambda t, m: m.linalg.norm(t, 1),
    "vector_norm_3": lambda t, m: m.linalg.vector_norm(t, 3, dim=0),
    "einsum": lambda t, m: m.einsum("ij,kj->ik", t, t),
    "einsum_diagonal": lambda t, m: m.einsum("ii->i", t[:, :3]),
    "mm": lambda t, m: t.mm(t.t()),
    "addmm": lambda t, m: m.addmm(t[:, :3], t, t.t()[:, :3], beta=0.5, alpha=2),
    "roll": lambda t, m: m.roll(t, 1, 1), "roll_two": lambda t, m: m.roll(t, (1, -1), (0, 1)),
    "roll_flat": lambda t, m: m.roll(t, 3), "rot90": lambda t, m: m.rot90(t, 3),
    "repeat": lambda t, m: t.repeat(2, 1, 2), "repeat_interleave": lambda t, m:
        t.repeat_interleave(2, dim=1),
    "narrow": lambda t, m: t.narrow(0, 1, 2), "unbind": lambda t, m: t.unbind(1),
    "unflatten": lambda t, m: t.unflatten(1, (2, -1)), "cumprod": lambda t, m: m.cumprod(t, 1),
    "diff": lambda t, m: m.diff(t, dim=0), "diff_2": lambda t, m: m.diff(t, n=2),
    "median": lambda t, m: m.median(t), "median_dim": lambda t, m: tuple(t.median(1)),
    "quantile": lambda t, m: m.quantile(t, 0.3, dim=1), "quantile_all": lambda t, m:
        m.quantile(t, 0.65),
    "var_mean": lambda t, m: m.var_mean(t, 1), "std_mean": lambda t, m: m.std_mean(t),
    "cross": lambda t, m: m.cross(t[:, :3], t[:, 1:], dim=1),
    "kron": lambda t, m: m.kron(t, t[:2, :2]), "logsumexp": lambda t, m: m.logsumexp(t, 1),
    "topk": lambda t, m: tuple(m.topk(t, 2)),
    "masked_fill": lambda t, m: t.masked_fill(t > 0, -1.5),
    "masked_select": lambda t, m: t.masked_select(t > 0),
    "index_select": lambda t, m: t.index_select(1, m.tensor([3, 0, 3])),
    "scatter_add": lambda t, m: m.zeros(3, 4, dtype=m.float64).scatter_add(
        1, m.tensor([[1, 1], [2, 0], [0, 3]]), t[:, :2]),
    "index_add": lambda t, m: m.zeros(3, 4, dtype=m.float64).index_add(
        0, m.tensor([0, 0, 2]), t, alpha=2),
    "index_fill": lambda t, m: t.index_fill(1, m.tensor([1]), 2.5),
    "nan_to_num": lambda t, m: m.nan_to_num(m.log(t)),
    "histc": lambda t, m: m.histc(t.detach(), 5),
    "histc_range": lambda t, m: m.histc(t.detach(), 4, min=-1, max=1),
    "amax": lambda t, m: t.amax(1), "clamp_min": lambda t, m: t.clamp_min(0.1),
    "softmax": lambda t, m: t.softmax(-1), "log_softmax": lambda t, m: t.log_softmax(0),
    "meshgrid_xy": lambda t, m: m.meshgrid(t[0], t[1][:2], indexing="xy"),
    "outer": lambda t, m: m.outer(t[0], t[1]), "dot": lambda t, m: m.dot(t[0], t[1]),
    "tile": lambda t, m: m.tile(t, (2,)), "cat": lambda t, m: m.cat([t, t], 1),
    "stack": lambda t, m: m.stack([t, t], 2), "max_of_two": lambda t, m: m.max(t, t.flip(0)),
}
TORCH_INT_PROGRAMS = {
    "unique": lambda t, m: m.unique(t, return_inverse=True, return_counts=True),
    "bincount": lambda t, m: m.bincount(t, minlength=8),
    "count_nonzero": lambda t, m: m.count_nonzero(t),
    "searchsorted": lambda t, m: m.searchsorted(m.tensor([0, 2, 4]), t),
    "searchsorted_right": lambda t, m: m.searchsorted(m.tensor([0, 3, 4]), t, right=True),
    "bucketize": lambda t, m: m.bucketize(t, m.tensor([1, 3])),
    "reciprocal": lambda t, m: m.reciprocal(t), "sinh": lambda t, m: m.sinh(t),
    "cumprod": lambda t, m: m.cumprod(t, 0), "diff": lambda t, m: m.diff(t),
    "masked_fill": lambda t, m: t.masked_fill(t > 2, 7.9),
    "tril_indices": lambda t, m: m.tril_indices(3, 4, 1),
    "triu_indices": lambda t, m: m.triu_indices(4, 3, -1),
    "repeat_interleave": lambda t, m: m.repeat_interleave(t, m.tensor([1, 0, 2, 1, 1])),
    "median": lambda t, m: m.median(t), "kron": lambda t, m: m.kron(t, t),
    "where": lambda t, m: m.where(t > 1), "argmax": lambda t, m: t.argmax(0, True),
}


def _as_list(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _compare_with_torch(program, data):
    wants_grad = data.dtype.kind == "f"
    ours_in = torch.tensor(data, requires_grad=wants_grad)
    theirs_in = real_torch.tensor(data, requires_grad=wants_grad)
    ours, theirs = _as_list(program(ours_in, torch)), _as_list(program(theirs_in, real_torch))
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        expected = b.detach().numpy()
        got = np.asarray(a.detach())
        assert got.dtype == expected.dtype and got.shape == expected.shape
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)
    float_ours = [a for a in ours if a.dtype.kind == "f" and a.requires_grad]
    float_theirs = [b for b in theirs if b.is_floating_point() and b.requires_grad]
    if wants_grad and float_ours:
        sum(a.sum() for a in float_ours).backward()
        sum(b.sum() for b in float_theirs).backward()
        np.testing.assert_allclose(ours_in.grad.numpy(), theirs_in.grad.numpy(), rtol=1e-6,
                                   atol=1e-6)


@needs_torch
@pytest.mark.parametrize("name", sorted(TORCH_PROGRAMS))
def test_float_programs_match_pytorch(name):
    data = np.random.default_rng(5).standard_normal((3, 4))
    _compare_with_torch(TORCH_PROGRAMS[name], data)


@needs_torch
@pytest.mark.parametrize("name", sorted(TORCH_INT_PROGRAMS))
def test_integer_programs_match_pytorch(name):
    _compare_with_torch(TORCH_INT_PROGRAMS[name], np.array([3, 1, 3, 0, 5]))


@needs_torch
def test_tensor_queries_match_pytorch():
    ours, theirs = torch.zeros(2, 3), real_torch.zeros(2, 3)
    assert ours.t().stride() == theirs.t().stride()
    assert ours.element_size() == theirs.element_size() and ours.type() == theirs.type()
    assert ours.t().is_contiguous() == theirs.t().is_contiguous()
    for shape in ((5,), (4, 5)):
        probs = np.random.default_rng(1).uniform(0.1, 1.0, shape)
        for replacement in (False, True):
            a = torch.multinomial(torch.tensor(probs), 3, replacement)
            b = real_torch.multinomial(real_torch.tensor(probs), 3, replacement)
            assert a.shape == tuple(b.shape) and a.dtype == b.numpy().dtype


def test_var_std_methods_are_unbiased_and_squeeze_skips_other_dims_as_in_torch():
    """Tensor methods follow PyTorch, the namespace functions the Array API."""
    x = torch.tensor([1.0, 2.0, 3.0, 4.0])
    assert abs(x.var().item() - 5 / 3) < 1e-6 and abs(torch.var(x).item() - 1.25) < 1e-6
    assert abs(x.var(0, False).item() - 1.25) < 1e-6 and x.var(0, True, True).shape == (1,)
    assert abs(x.std(unbiased=False).item() - 1.25 ** 0.5) < 1e-6
    z = torch.zeros(2, 1, 3)
    assert z.squeeze(0).shape == (2, 1, 3) and z.squeeze((0, 1)).shape == (2, 3)
    with pytest.raises(torch.ShapeError):
        torch.squeeze(z, 0)

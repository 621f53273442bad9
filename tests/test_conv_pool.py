"""conv2d and max_pool2d (stride, padding, dilation, groups) against direct loops, their
gradients by finite differences in float64, the `windows` / `fold` primitives on the C
and numpy paths, and the jit replaying them with eager's results."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import eager
import eager.nn.functional as F
import tracer
from eager.autograd import gradcheck
from jit import jit
from kernels import OPS, ShapeError
from kernels.codegen import windows_c
from kernels.windows import _fold_impl, _windows_impl

rng = np.random.default_rng(0)


def t64(a, grad=True):
    return eager.tensor(np.asarray(a, np.float64), dtype="float64", requires_grad=grad)


def loop_conv2d(x, w, b, stride, padding, dilation, groups):
    n, _, h, wd = x.shape
    o, cg, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding[0],) * 2, (padding[1],) * 2))
    oh = (h + 2 * padding[0] - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    ow = (wd + 2 * padding[1] - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    out = np.zeros((n, o, oh, ow))
    per_group = o // groups
    for oc in range(o):
        g = oc // per_group
        for r in range(oh):
            for q in range(ow):
                patch = xp[:, g * cg:(g + 1) * cg,
                           r * stride[0]:r * stride[0] + dilation[0] * (kh - 1) + 1:dilation[0],
                           q * stride[1]:q * stride[1] + dilation[1] * (kw - 1) + 1:dilation[1]]
                out[:, oc, r, q] = (patch * w[oc]).sum(axis=(1, 2, 3))
    return out if b is None else out + b[None, :, None, None]


def loop_max_pool2d(x, kernel, stride, padding, dilation):
    n, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding[0],) * 2, (padding[1],) * 2),
                constant_values=-np.inf)
    oh = (h + 2 * padding[0] - dilation[0] * (kernel[0] - 1) - 1) // stride[0] + 1
    ow = (w + 2 * padding[1] - dilation[1] * (kernel[1] - 1) - 1) // stride[1] + 1
    out = np.empty((n, c, oh, ow))
    for r in range(oh):
        for q in range(ow):
            out[:, :, r, q] = xp[:, :, r * stride[0]:r * stride[0] + dilation[0] * (kernel[0] - 1) + 1:dilation[0],
                                 q * stride[1]:q * stride[1] + dilation[1] * (kernel[1] - 1) + 1:dilation[1]
                                 ].max(axis=(2, 3))
    return out


pairs = st.tuples(st.integers(1, 3), st.integers(1, 3))


@st.composite
def conv_case(draw):
    groups = draw(st.sampled_from([1, 2]))
    c, o = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    kernel, stride, dilation = draw(pairs), draw(pairs), draw(pairs)
    padding = draw(st.tuples(st.integers(0, 2), st.integers(0, 2)))
    span = [d * (k - 1) + 1 for d, k in zip(dilation, kernel)]
    h = draw(st.integers(max(1, span[0] - 2 * padding[0]), 7))
    w = draw(st.integers(max(1, span[1] - 2 * padding[1]), 7))
    return (draw(st.integers(1, 2)), c, h, w), (o, c // groups) + kernel, stride, padding, \
        dilation, groups


@settings(max_examples=40, deadline=None)
@given(conv_case(), st.booleans())
def test_conv2d_matches_a_direct_loop(case, with_bias):
    xs, ws, stride, padding, dilation, groups = case
    x, w = rng.standard_normal(xs), rng.standard_normal(ws)
    b = rng.standard_normal(ws[0]) if with_bias else None
    got = F.conv2d(t64(x, False), t64(w, False), None if b is None else t64(b, False),
                   stride, padding, dilation, groups).numpy()
    np.testing.assert_allclose(got, loop_conv2d(x, w, b, stride, padding, dilation, groups),
                               rtol=1e-10, atol=1e-10)


@settings(max_examples=40, deadline=None)
@given(pairs, pairs, pairs, st.data())
def test_max_pool2d_matches_a_direct_loop(kernel, stride, dilation, data):
    padding = tuple(data.draw(st.integers(0, k // 2)) for k in kernel)
    span = [d * (k - 1) + 1 for d, k in zip(dilation, kernel)]
    h = data.draw(st.integers(max(1, span[0] - 2 * padding[0]), 7))
    w = data.draw(st.integers(max(1, span[1] - 2 * padding[1]), 7))
    x = rng.standard_normal((2, 3, h, w))
    got = F.max_pool2d(t64(x, False), kernel, stride, padding, dilation).numpy()
    np.testing.assert_array_equal(got, loop_max_pool2d(x, kernel, stride, padding, dilation))


@pytest.mark.parametrize("stride,padding,dilation,groups", [
    ((1, 1), (1, 1), (1, 1), 1), ((2, 1), (0, 2), (1, 2), 1), ((1, 2), (1, 0), (2, 1), 2)])
def test_conv2d_gradients_match_finite_differences(stride, padding, dilation, groups):
    x = t64(rng.standard_normal((2, 4, 6, 7)))
    w = t64(rng.standard_normal((6, 4 // groups, 3, 2)))
    b = t64(rng.standard_normal(6))
    assert gradcheck(lambda x, w, b: F.conv2d(x, w, b, stride, padding, dilation, groups),
                     [x, w, b])


@pytest.mark.parametrize("kernel,stride,padding,dilation", [
    (2, None, 0, 1), (3, 2, 1, 1), ((2, 3), 1, (1, 1), (2, 1))])
def test_max_pool2d_gradients_match_finite_differences(kernel, stride, padding, dilation):
    x = t64(rng.standard_normal((2, 3, 7, 6)))   # distinct values: no ties
    assert gradcheck(lambda x: F.max_pool2d(x, kernel, stride, padding, dilation), [x])


def test_max_pool2d_sends_a_tied_windows_gradient_to_its_first_largest_element():
    x = eager.tensor([[[[1.0, 1.0], [0.0, 1.0]]]], requires_grad=True)
    F.max_pool2d(x, 2).sum().backward()
    assert x.grad.tolist() == [[[[1.0, 0.0], [0.0, 0.0]]]]


def test_windows_and_fold_are_adjoint():
    # <windows(x), g> == <x, fold(g)> for every x and g: fold is windows' transpose.
    x = rng.standard_normal((2, 3, 7, 8))
    for padding in ((0, 0), (1, 2)):
        attrs = {"kernel": (3, 2), "stride": (2, 1), "dilation": (1, 2), "padding": padding}
        for kernel_last in (False, True):
            cols = OPS.windows.cpu_kernel(x, kernel_last=kernel_last, **attrs)
            g = rng.standard_normal(cols.shape)
            folded = OPS.fold.cpu_kernel(g, size=(7, 8), kernel_last=kernel_last, **attrs)
            assert folded.shape == x.shape
            assert np.isclose((cols * g).sum(), (x * folded).sum())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_c_loops_agree_with_the_numpy_strided_path(dtype, monkeypatch):
    if not windows_c.available(dtype):
        pytest.skip("no C compiler")
    # short window rows take the C loops' offset tables, long ones their row copies
    for size in ((9, 8), (5, 37)):
        x = rng.standard_normal((2, 3) + size).astype(dtype)
        for attrs in ({"kernel": (3, 3), "stride": (1, 1), "dilation": (1, 1)},
                      {"kernel": (3, 3), "stride": (1, 1), "dilation": (1, 1),
                       "padding": (1, 1)},
                      {"kernel": (2, 3), "stride": (2, 3), "dilation": (2, 1),
                       "padding": (1, 2), "pad_value": -np.inf}):
            for kernel_last in (False, True):
                c_cols = _windows_impl(np)(x, kernel_last=kernel_last, **attrs)
                g = rng.standard_normal(c_cols.shape).astype(dtype)
                c_fold = _fold_impl(np)(g, size=size, kernel_last=kernel_last, **attrs)
                assert c_fold.shape == x.shape
                with monkeypatch.context() as m:
                    m.setattr(windows_c, "available", lambda dtype: False)
                    np_cols = _windows_impl(np)(x, kernel_last=kernel_last, **attrs)
                    np_fold = _fold_impl(np)(g, size=size, kernel_last=kernel_last, **attrs)
                np.testing.assert_array_equal(c_cols, np_cols)
                # the C loops may sum a pixel's window taps in another order
                np.testing.assert_allclose(c_fold, np_fold, rtol=1e-6, atol=1e-6)
                assert c_cols.flags.c_contiguous and c_cols.dtype == dtype


def test_windows_of_a_non_contiguous_input_reads_its_strides():
    x = rng.standard_normal((3, 2, 8, 8)).transpose(1, 0, 3, 2)
    got = OPS.windows.cpu_kernel(x, kernel=(2, 2), stride=(1, 1), dilation=(1, 1))
    assert got[1, 2, 0, 1, 3, 4] == x[1, 2, 3, 5]


def test_conv_and_pool_trace_to_windows_and_fold_not_index_gathers():
    x = eager.randn(2, 1, 6, 6)
    w = eager.randn(4, 1, 3, 3, requires_grad=True)

    def loss(x, w):
        y = F.max_pool2d(F.relu(F.conv2d(x, w, padding=1)), 2)
        return y.sum()

    graph = tracer.trace(lambda x, w: eager.grad(loss(x, w), [w])[0], x, w)
    names = [n.op.name for n in graph.nodes]
    assert "windows" in names and "index" not in names and "index_add" not in names


def test_a_jitted_cnn_step_matches_eager():
    def make():
        eager.manual_seed(3)
        return eager.nn.Sequential(
            eager.nn.Conv2d(2, 4, 3, padding=1, groups=2), eager.nn.ReLU(),
            eager.nn.MaxPool2d(2), eager.nn.Conv2d(4, 6, 3, dilation=2, padding=2),
            eager.nn.Flatten(), eager.nn.Linear(6 * 4 * 4, 3))

    x, y = eager.randn(5, 2, 8, 8), eager.tensor([0, 2, 1, 1, 0])
    results = []
    for wrap in (lambda f: f, jit):
        model = make()
        opt = eager.optim.SGD(model.parameters(), lr=0.1)

        def step(x, y, model=model, opt=opt):
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            opt.zero_grad()
            return loss.detach()

        run = wrap(step)
        losses = [run(x, y).item() for _ in range(3)]
        results.append((losses, [p.detach().numpy() for p in model.parameters()]))
    (eager_losses, eager_params), (jit_losses, jit_params) = results
    np.testing.assert_allclose(jit_losses, eager_losses, rtol=1e-5)
    for a, b in zip(jit_params, eager_params):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_bad_groups_and_dilation_are_named_errors():
    with pytest.raises(ShapeError, match=r"conv2d: .*divisible by groups=2.*\(1, 3, 4, 4\)"):
        F.conv2d(eager.ones(1, 3, 4, 4), eager.ones(2, 1, 3, 3), groups=2)
    with pytest.raises(eager.nn.ArgumentError, match=r"conv2d: groups"):
        F.conv2d(eager.ones(1, 2, 4, 4), eager.ones(2, 1, 3, 3), groups=0)
    with pytest.raises(eager.nn.ArgumentError, match=r"conv2d: .*dilation"):
        F.conv2d(eager.ones(1, 1, 4, 4), eager.ones(1, 1, 3, 3), dilation=0)
    with pytest.raises(ShapeError, match=r"max_pool2d: kernel \(3, 3\) \(dilation \(2, 2\)\) "
                                         r"is larger than the padded input"):
        F.max_pool2d(eager.ones(1, 1, 4, 4), 3, dilation=2)
    with pytest.raises(eager.nn.ArgumentError, match=r"Conv2d: .*divisible by groups=2"):
        eager.nn.Conv2d(3, 4, 3, groups=2)


def test_conv2d_module_takes_dilation_and_groups_like_pytorch():
    conv = eager.nn.Conv2d(4, 6, 3, dilation=2, groups=2)
    assert conv.weight.shape == (6, 2, 3, 3)
    assert conv(eager.ones(1, 4, 9, 9)).shape == (1, 6, 5, 5)
    assert "dilation=(2, 2), groups=2" in repr(conv)


@pytest.mark.parametrize("axis", [0, 1, 2])
def test_big_gathers_and_one_per_lane_scatters_match_take_and_a_loop(axis):
    # Max-pool's argmax and its gradient take the flat-position paths (many lanes).
    from kernels.indexing import FLAT_GATHER_MIN

    shape = [96, 90, 96]
    x = rng.standard_normal(shape)
    idx_shape = list(shape)
    idx_shape[axis] = 1
    idx = rng.integers(-shape[axis], shape[axis], idx_shape)
    assert idx.size >= FLAT_GATHER_MIN
    big = np.concatenate([idx] * 3, axis=axis)      # 3 picks per lane: a plain gather
    for picks in (idx, big):
        np.testing.assert_array_equal(OPS.gather.cpu_kernel(x, picks, axis=axis),
                                      np.take_along_axis(x, picks, axis=axis))
    src = rng.standard_normal(idx_shape)
    want = x.copy()
    np.put_along_axis(want, idx % shape[axis], np.take_along_axis(x, idx, axis) + src, axis)
    np.testing.assert_allclose(OPS.scatter_add.cpu_kernel(x, idx, src, axis=axis), want)
    bad = idx.copy()
    bad.flat[5] = shape[axis]
    with pytest.raises(IndexError):
        OPS.scatter_add.cpu_kernel(x, bad, src, axis=axis)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_block_pool_c_loops_agree_with_the_numpy_passes(dtype, monkeypatch):
    if not windows_c.available(dtype):
        pytest.skip("no C compiler")
    # ties (relu zeros), a NaN, an inf, and rows and columns left over past the blocks
    x = np.maximum(np.round(rng.standard_normal((2, 3, 7, 9)), 0), 0).astype(dtype)
    x[0, 1, 2, 3], x[1, 2, 4, 4] = np.nan, np.inf
    for kernel in ((2, 2), (3, 2), (1, 4)):
        pooled = (7 // kernel[0], 9 // kernel[1])
        g = rng.standard_normal((2, 3) + pooled).astype(dtype)
        v = rng.standard_normal(x.shape).astype(dtype)
        results = []
        for c_loops in (True, False):
            with monkeypatch.context() as m:
                if not c_loops:
                    m.setattr(windows_c, "available", lambda dtype: False)
                results.append([OPS.max_pool_blocks.cpu_kernel(x, kernel=kernel),
                                OPS.block_argmax_scatter.cpu_kernel(g, x, kernel=kernel),
                                OPS.block_argmax_pick.cpu_kernel(v, x, kernel=kernel)])
        for got, want in zip(*results):
            np.testing.assert_array_equal(got, want)
            assert got.dtype == dtype


def test_a_cnn_with_block_max_pool_exports_to_c_and_onnx(tmp_path):
    if not windows_c.available(np.float32):
        pytest.skip("no C compiler")
    import jit as jit_package

    eager.manual_seed(0)
    model = eager.nn.Sequential(eager.nn.Conv2d(1, 4, 3, padding=1), eager.nn.ReLU(),
                                eager.nn.MaxPool2d(2), eager.nn.Flatten(),
                                eager.nn.Linear(4 * 3 * 4, 3)).eval()
    x = eager.randn(2, 1, 7, 9)   # a row and a column left over past the 2x2 blocks
    want = model(x).detach().numpy()
    jit_package.export(model, (x,), str(tmp_path / "c"))
    got = jit_package.load_exported(str(tmp_path / "c"))(x)
    np.testing.assert_allclose(np.asarray(got.numpy()), want, rtol=1e-5, atol=1e-6)
    onnx = pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    path = jit_package.export_onnx(model, (x,), str(tmp_path / "m.onnx"))
    onnx.checker.check_model(onnx.load(path), full_check=True)
    session = ort.InferenceSession(path)
    out = session.run(None, {session.get_inputs()[0].name: x.numpy()})[0]
    np.testing.assert_allclose(out, want, rtol=1e-5, atol=1e-6)


def _ceil_mode_reference(x, k, s, p, d):
    """max_pool2d with ceil_mode=True in numpy, from PyTorch's documented rule."""
    n, c, h, w = x.shape
    span = d * (k - 1) + 1

    def out_size(size):
        out = -(-(size + 2 * p - span) // s) + 1
        return out - 1 if (out - 1) * s >= size + p else out

    oh, ow = out_size(h), out_size(w)
    padded = np.full((n, c, h + 2 * p + s + span, w + 2 * p + s + span), -np.inf)
    padded[:, :, p:p + h, p:p + w] = x
    out = np.empty((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            window = padded[:, :, i * s:i * s + span:d, j * s:j * s + span:d]
            out[:, :, i, j] = window.max(axis=(2, 3))
    return out


@settings(max_examples=40, deadline=None)
@given(h=st.integers(4, 9), w=st.integers(4, 9), k=st.integers(2, 3), s=st.integers(1, 3),
       p=st.integers(0, 1), d=st.integers(1, 2))
def test_max_pool2d_ceil_mode_matches_the_rule_and_jit(h, w, k, s, p, d):
    span = d * (k - 1) + 1
    if span > h + 2 * p or span > w + 2 * p:
        return
    x = np.random.default_rng(h * 100 + w).standard_normal((2, 2, h, w))
    got = F.max_pool2d(eager.tensor(x), k, s, p, d, ceil_mode=True)
    np.testing.assert_array_equal(got.numpy(), _ceil_mode_reference(x, k, s, p, d))
    jitted = jit(lambda t: F.max_pool2d(t, k, s, p, d, ceil_mode=True))
    for _ in range(2):
        np.testing.assert_array_equal(jitted(eager.tensor(x)).numpy(), got.numpy())


def test_max_pool2d_ceil_mode_gradients_and_module():
    x = eager.tensor(np.random.default_rng(0).standard_normal((1, 2, 7, 5)),
                     requires_grad=True)
    assert gradcheck(lambda t: F.max_pool2d(t, 2, ceil_mode=True), (x,))
    assert gradcheck(lambda t: F.max_pool2d(t, 3, 2, 1, ceil_mode=True), (x,))
    pool = eager.nn.MaxPool2d(2, ceil_mode=True)
    assert pool(eager.zeros(1, 1, 7, 7)).shape == (1, 1, 4, 4)
    assert "ceil_mode=True" in repr(pool)


def test_max_pool2d_ceil_mode_against_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(3).standard_normal((2, 3, 9, 6))
    for args in ((2,), (3, 2), (3, 2, 1), (2, 3, 1, 2)):
        a = eager.tensor(x, requires_grad=True)
        b = torch.tensor(x, requires_grad=True)
        ya = F.max_pool2d(a, *args, ceil_mode=True)
        yb = torch.nn.functional.max_pool2d(b, *args, ceil_mode=True)
        ya.sum().backward()
        yb.sum().backward()
        np.testing.assert_allclose(ya.detach().numpy(), yb.detach().numpy())
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy())


def _avg_ceil_reference(x, k, s, p, include_pad):
    """avg_pool2d with ceil_mode=True in numpy, from PyTorch's rule: a window's divisor
    counts the input (and its padding when include_pad), never the overhang past them."""
    n, c, h, w = x.shape

    def out_size(size):
        out = -(-(size + 2 * p - k) // s) + 1
        return out - 1 if (out - 1) * s >= size + p else out

    out = np.empty((n, c, out_size(h), out_size(w)))
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            r0, c0 = i * s - p, j * s - p
            r1, c1 = min(r0 + k, h + p), min(c0 + k, w + p)
            window = x[:, :, max(r0, 0):min(r1, h), max(c0, 0):min(c1, w)]
            count = (r1 - r0) * (c1 - c0) if include_pad else window.shape[2] * window.shape[3]
            out[:, :, i, j] = window.sum(axis=(2, 3)) / count
    return out


@settings(max_examples=40, deadline=None)
@given(h=st.integers(3, 9), w=st.integers(3, 9), k=st.integers(2, 3), s=st.integers(1, 3),
       p=st.integers(0, 1), include_pad=st.booleans())
def test_avg_pool2d_ceil_mode_matches_the_rule(h, w, k, s, p, include_pad):
    x = np.random.default_rng(h * 10 + w).standard_normal((1, 2, h, w))
    got = F.avg_pool2d(eager.tensor(x), k, s, p, ceil_mode=True,
                       count_include_pad=include_pad)
    np.testing.assert_allclose(got.numpy(), _avg_ceil_reference(x, k, s, p, include_pad),
                               rtol=1e-12)


def test_avg_pool2d_ceil_mode_gradients_jit_and_torch():
    x = eager.tensor(np.random.default_rng(1).standard_normal((1, 2, 7, 5)),
                     requires_grad=True)
    assert gradcheck(lambda t: F.avg_pool2d(t, 2, ceil_mode=True), (x,))
    assert gradcheck(lambda t: F.avg_pool2d(t, 3, 2, 1, ceil_mode=True,
                                            count_include_pad=False), (x,))
    jitted = jit(lambda t: F.avg_pool2d(t, 2, ceil_mode=True))
    expected = F.avg_pool2d(x.detach(), 2, ceil_mode=True).numpy()
    for _ in range(2):
        np.testing.assert_allclose(jitted(x.detach()).numpy(), expected)
    torch = pytest.importorskip("torch")
    for args, include in (((2,), True), ((3, 2, 1), True), ((3, 2, 1), False)):
        a = eager.tensor(x.detach().numpy(), requires_grad=True)
        b = torch.tensor(x.detach().numpy(), requires_grad=True)
        ya = F.avg_pool2d(a, *args, ceil_mode=True, count_include_pad=include)
        yb = torch.nn.functional.avg_pool2d(b, *args, ceil_mode=True,
                                            count_include_pad=include)
        ya.sum().backward()
        yb.sum().backward()
        np.testing.assert_allclose(ya.detach().numpy(), yb.detach().numpy())
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy())

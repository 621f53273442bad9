"""Padding, pixel shuffle and instance normalisation (the vision layers of
pytorch/examples): values and gradients against PyTorch over generated shapes (when it is
installed), against numpy references otherwise, float64 gradcheck, `@jit` against eager,
and the errors for bad arguments."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import eager
import eager.nn.functional as F
from eager import nn
from eager.autograd import gradcheck
from jit import jit
from kernels.errors import ArgumentError, ShapeError


@pytest.fixture(scope="module")
def ref():
    return pytest.importorskip("torch")


def t64(a, grad=True):
    return eager.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def rand(seed, shape):
    return np.random.default_rng(seed).standard_normal(shape)


def check_against_torch(ref, ours, theirs, x, tol=1e-10):
    """Forward values and the input's gradient for one random upstream gradient."""
    a, b = t64(x), ref.tensor(x, dtype=ref.float64, requires_grad=True)
    ya, yb = ours(a), theirs(b)
    np.testing.assert_allclose(ya.detach().numpy(), yb.detach().numpy(), rtol=tol, atol=tol)
    up = rand(1, tuple(yb.shape))
    ya.backward(eager.tensor(up))
    yb.backward(ref.tensor(up))
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=tol, atol=tol)


def jit_matches_eager(fn, *args):
    compiled = jit(fn)
    want = fn(*args)
    for _ in range(2):
        got = compiled(*args)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-6)
    assert compiled.cache_info().hits >= 1


# ---- F.pad -------------------------------------------------------------------------
widths = st.integers(-3, 3)


@given(size=st.integers(1, 6), pads=st.tuples(widths, widths, widths, widths),
       mode=st.sampled_from(["constant", "reflect", "replicate", "circular"]))
def test_pad_matches_torch_also_with_negative_widths(ref, size, pads, mode):
    x = rand(0, (2, 3, size, size + 1))
    try:
        ref.nn.functional.pad(ref.tensor(x), pads, mode=mode)
    except (RuntimeError, ValueError) as refused:
        if "unsupported operation" in str(refused):
            return  # torch's copy refuses its own overlapping circular wrap: no reference
        try:
            got = F.pad(t64(x), pads, mode=mode)
        except ShapeError as exc:
            assert str(exc).startswith(f"pad: {mode} padding")
        else:  # torch refuses to empty all padded dims at once; an empty one is fine here
            assert 0 in got.shape
        return
    sizes = (size + 1, size)
    if mode == "circular" and any(n + min(p[0], 0) + min(p[1], 0) <= 0
                                  for n, p in zip(sizes, (pads[:2], pads[2:]))):
        return  # torch reads uninitialised memory when a crop empties a circular axis
    check_against_torch(ref, lambda v: F.pad(v, pads, mode=mode),
                        lambda v: ref.nn.functional.pad(v, pads, mode=mode), x)


def test_pad_modes_match_numpy_and_crop_with_negative_widths():
    x = np.arange(5.0).reshape(1, 1, 5)
    for mode, np_mode in (("reflect", "reflect"), ("replicate", "edge"), ("circular", "wrap")):
        np.testing.assert_array_equal(F.pad(t64(x), (3, 2), mode=mode).detach().numpy(),
                                      np.pad(x, ((0, 0), (0, 0), (3, 2)), mode=np_mode))
    assert F.pad(t64(x), (-1, 2), mode="reflect").tolist() == [[[1, 2, 3, 4, 3, 2]]]
    assert F.pad(t64(x), (-3, 2), mode="circular").tolist() == [[[3, 4, 3, 4]]]
    assert F.pad(t64(x), (-2, 1), value=9.0).tolist() == [[[2, 3, 4, 9]]]
    assert F.pad(t64(x), (-5, 0)).shape == (1, 1, 0)
    grad = t64(x)
    F.pad(grad, (-1, -2, 1, 0)).sum().backward()
    assert grad.grad.tolist() == [[[0, 1, 1, 0, 0]]]


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad_gradcheck_float64(mode):
    x = t64(rand(2, (2, 4, 5)))
    assert gradcheck(lambda v: F.pad(v, (2, -1, -1, 2), mode=mode), [x])


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad_jit_matches_eager(mode):
    x = eager.tensor(rand(3, (2, 3, 5, 5)).astype(np.float32))
    jit_matches_eager(lambda v: (F.pad(v, (2, 1, -1, 2), mode=mode) * 2.0).tanh(), x)


def test_pad_errors_name_the_function_and_sizes():
    x = eager.ones(1, 2, 3)
    with pytest.raises(ShapeError, match=r"pad: reflect padding \(3, 3\) does not fit dim 2 "
                                         r"of size 3 of input \(1, 2, 3\)"):
        F.pad(x, (3, 3), mode="reflect")
    with pytest.raises(ShapeError, match=r"pad: constant padding \(-4, 0\) .* size 3"):
        F.pad(x, (-4, 0))
    with pytest.raises(ShapeError, match="pad: circular"):
        F.pad(x, (4, 0), mode="circular")
    with pytest.raises(ArgumentError, match="pad: value=1.0 only applies to mode 'constant'"):
        F.pad(x, (1, 1), mode="reflect", value=1.0)
    with pytest.raises(ArgumentError, match="pad: mode must be one of"):
        F.pad(x, (1, 1), mode="mirror")


# ---- padding layers ------------------------------------------------------------------
LAYERS = [("ReflectionPad1d", (2, 1)), ("ReflectionPad2d", (1, 2, 2, 0)),
          ("ReplicationPad1d", 2), ("ReplicationPad2d", (3, 0, 1, 2)),
          ("ZeroPad2d", (1, -1, 2, 0)), ("ConstantPad1d", (2, -1)),
          ("ConstantPad2d", 1), ("ReflectionPad3d", 1), ("ReplicationPad3d", (1, 0, 0, 1, 2, 1)),
          ("ZeroPad1d", 2), ("ConstantPad3d", (0, 1, 1, 0, 0, 2)), ("ZeroPad3d", 1)]


@pytest.mark.parametrize("name,padding", LAYERS)
def test_padding_layers_match_torch(ref, name, padding):
    dims = int(name[-2])
    args = (padding, 2.5) if name.startswith("Constant") else (padding,)
    ours, theirs = getattr(nn, name)(*args), getattr(ref.nn, name)(*args)
    assert repr(ours) == repr(theirs)
    for rank in (dims + 1, dims + 2):
        x = rand(4, (2, 3, 4, 5, 4)[5 - rank:])
        check_against_torch(ref, ours, theirs, x)


def test_padding_layers_check_their_input_rank_and_padding():
    with pytest.raises(ShapeError, match=r"ReflectionPad2d: expected a 3-d or 4-d input, got"):
        nn.ReflectionPad2d(1)(eager.ones(2, 2))
    with pytest.raises(ArgumentError, match=r"ReplicationPad1d: padding must be an int or 2 "):
        nn.ReplicationPad1d((1, 2, 3, 4))
    assert nn.ZeroPad2d(1)(eager.ones(3, 3)).shape == (5, 5)   # constant pads any rank
    assert nn.ReflectionPad2d((1, 0, 0, 1))(eager.ones(1, 2, 2)).shape == (1, 3, 3)
    assert list(nn.ReflectionPad2d(1).state_dict()) == []


# ---- pixel shuffle ----------------------------------------------------------------
def np_pixel_shuffle(x, r):
    *b, c, h, w = x.shape
    y = x.reshape(*b, c // (r * r), r, r, h, w)
    y = np.moveaxis(y, (-4, -3), (-3, -1))   # (..., C, H, r, W, r)
    return y.reshape(*b, c // (r * r), h * r, w * r)


@given(r=st.integers(1, 3), c=st.integers(1, 3), h=st.integers(1, 4), w=st.integers(1, 4),
       batch=st.sampled_from([(), (2,), (2, 1)]))
def test_pixel_shuffle_and_unshuffle_invert_each_other_and_match_numpy(r, c, h, w, batch):
    x = rand(5, batch + (c * r * r, h, w))
    y = F.pixel_shuffle(t64(x), r)
    np.testing.assert_array_equal(y.detach().numpy(), np_pixel_shuffle(x, r))
    np.testing.assert_array_equal(F.pixel_unshuffle(y, r).detach().numpy(), x)


@given(r=st.integers(1, 3), c=st.integers(1, 3), h=st.integers(1, 3), w=st.integers(1, 3))
def test_pixel_shuffle_matches_torch(ref, r, c, h, w):
    x = rand(6, (2, c * r * r, h, w))
    check_against_torch(ref, nn.PixelShuffle(r), ref.nn.PixelShuffle(r), x)
    x = rand(7, (2, c, h * r, w * r))
    check_against_torch(ref, nn.PixelUnshuffle(r), ref.nn.PixelUnshuffle(r), x)
    assert repr(nn.PixelShuffle(r)) == repr(ref.nn.PixelShuffle(r))


def test_pixel_shuffle_gradcheck_and_jit():
    assert gradcheck(lambda v: F.pixel_shuffle(v, 2), [t64(rand(8, (1, 8, 2, 3)))])
    assert gradcheck(lambda v: F.pixel_unshuffle(v, 2), [t64(rand(9, (2, 1, 4, 2)))])
    x = eager.tensor(rand(10, (2, 9, 3, 3)).astype(np.float32))
    jit_matches_eager(lambda v: F.pixel_shuffle(v.relu(), 3) + 1.0, x)


def test_pixel_shuffle_errors_name_the_sizes():
    with pytest.raises(ShapeError, match=r"pixel_shuffle: the channels of input \(1, 5, 2, 2\) "
                                         r"\(dim -3, size 5\) must be divisible by "
                                         r"upscale_factor \*\* 2 = 4"):
        nn.PixelShuffle(2)(eager.ones(1, 5, 2, 2))
    with pytest.raises(ShapeError, match=r"pixel_unshuffle: the height and width of input "
                                         r"\(1, 1, 3, 2\) must be divisible by "
                                         r"downscale_factor = 2"):
        F.pixel_unshuffle(eager.ones(1, 1, 3, 2), 2)
    with pytest.raises(ShapeError, match="pixel_shuffle: input must be .* at least 3 dims"):
        F.pixel_shuffle(eager.ones(4, 2), 2)
    with pytest.raises(ArgumentError, match="PixelShuffle: upscale_factor must be an int >= 1"):
        nn.PixelShuffle(0)


# ---- instance norm ---------------------------------------------------------------
def np_instance_norm(x, eps=1e-5):
    axes = tuple(range(2, x.ndim))
    mean = x.mean(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(x.var(axis=axes, keepdims=True) + eps)


def test_instance_norm_matches_numpy_and_gradcheck():
    x = rand(11, (2, 3, 4, 5))
    np.testing.assert_allclose(F.instance_norm(t64(x)).detach().numpy(), np_instance_norm(x),
                               rtol=1e-10, atol=1e-10)
    w, b = t64(rand(12, (3,))), t64(rand(13, (3,)))
    assert gradcheck(lambda v, w, b: F.instance_norm(v, weight=w, bias=b),
                     [t64(rand(14, (2, 3, 3, 2))), w, b])


@given(dims=st.sampled_from([1, 2, 3]), affine=st.booleans(), track=st.booleans(),
       n=st.integers(1, 3), c=st.integers(1, 3), momentum=st.sampled_from([0.1, 0.5, None]),
       unbatched=st.booleans())
def test_instance_norm_layers_match_torch_in_train_and_eval(ref, dims, affine, track, n, c,
                                                             momentum, unbatched):
    name = f"InstanceNorm{dims}d"
    kwargs = {"affine": affine, "track_running_stats": track, "momentum": momentum}
    ours, theirs = getattr(nn, name)(c, **kwargs), getattr(ref.nn, name)(c, **kwargs)
    ours.double()
    theirs.double()
    if affine:
        with ref.no_grad():
            theirs.weight.normal_()
            theirs.bias.normal_()
        ours.load_state_dict({k: eager.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    assert sorted(ours.state_dict()) == sorted(theirs.state_dict())
    assert repr(ours).replace(f", bias={affine}", "") == \
        repr(theirs).replace(f", bias={affine}", "")
    shape = ((c,) if unbatched else (n, c)) + (3, 2, 2)[:dims]
    for step in range(2):
        check_against_torch(ref, ours, theirs, rand(15 + step, shape), tol=1e-9)
        if affine:
            np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(),
                                       rtol=1e-9, atol=1e-9)
    if track:
        for key in ("running_mean", "running_var"):
            np.testing.assert_allclose(getattr(ours, key).numpy(),
                                       getattr(theirs, key).numpy(), rtol=1e-12)
    ours.eval()
    theirs.eval()
    check_against_torch(ref, ours, theirs, rand(20, shape), tol=1e-9)


def test_instance_norm_tracks_running_stats_as_pytorch_rule():
    norm = nn.InstanceNorm1d(2, track_running_stats=True, momentum=0.5)
    x = rand(21, (3, 2, 4))
    norm(eager.tensor(x.astype(np.float32)))
    want_mean = 0.5 * x.mean(axis=2).mean(axis=0)
    want_var = 0.5 + 0.5 * x.var(axis=2, ddof=1).mean(axis=0)
    np.testing.assert_allclose(norm.running_mean.numpy(), want_mean, rtol=1e-5)
    np.testing.assert_allclose(norm.running_var.numpy(), want_var, rtol=1e-5)
    assert norm.num_batches_tracked.item() == 0
    norm.eval()
    y = norm(eager.tensor(x.astype(np.float32)))
    np.testing.assert_allclose(y.numpy(), (x - want_mean[:, None]) / np.sqrt(want_var[:, None]
                                                                             + 1e-5), rtol=1e-4)


def test_instance_norm_jit_matches_eager_and_updates_running_stats_on_replay():
    norm = nn.InstanceNorm2d(3, affine=True, track_running_stats=True)
    twin = nn.InstanceNorm2d(3, affine=True, track_running_stats=True)
    x = eager.tensor(rand(22, (2, 3, 4, 4)).astype(np.float32))
    target = eager.tensor(rand(23, (2, 3, 4, 4)).astype(np.float32))

    def train(layer, v):
        layer.zero_grad()
        loss = F.mse_loss(layer(v), target)
        loss.backward()
        return loss.detach()

    step = jit(lambda v: train(norm, v))
    for _ in range(3):
        got, want = step(x), train(twin, x)
    np.testing.assert_allclose(got.item(), want.item(), rtol=1e-5)
    np.testing.assert_allclose(norm.weight.grad.numpy(), twin.weight.grad.numpy(), rtol=1e-4,
                               atol=1e-6)
    np.testing.assert_allclose(norm.running_var.numpy(), twin.running_var.numpy(), rtol=1e-5)
    assert step.cache_info().hits >= 1


def test_instance_norm_errors():
    with pytest.raises(ShapeError, match=r"InstanceNorm2d: input \(2, 4, 3, 3\) has 4 channels "
                                         r"at dim 1, but num_features is 3"):
        nn.InstanceNorm2d(3, affine=True)(eager.ones(2, 4, 3, 3))
    with pytest.warns(UserWarning, match="InstanceNorm2d: .* num_features is 3"):
        nn.InstanceNorm2d(3)(eager.randn(2, 4, 3, 3))
    with pytest.raises(ShapeError, match="instance_norm: needs more than one position"):
        nn.InstanceNorm2d(3)(eager.ones(2, 3, 1, 1))
    with pytest.raises(ShapeError, match=r"InstanceNorm1d: expected a 2-d \(unbatched\) or 3-d"):
        nn.InstanceNorm1d(3)(eager.ones(2, 3, 4, 4))
    with pytest.raises(ShapeError, match=r"instance_norm: weight of shape \(2,\) does not match"):
        F.instance_norm(eager.ones(1, 3, 4), weight=eager.ones(2))


def test_circular_pad_wraps_a_cropped_axis_more_than_once_as_torch():
    # PyTorch allows widths up to the input's size, wrapping around what the crop left.
    x = np.arange(1.0, 5.0).reshape(1, 1, 4)
    for before, after in ((-3, 4), (4, -3), (-2, 4), (3, -2)):
        cropped = x[..., max(-before, 0):4 - max(-after, 0)]
        expected = np.pad(cropped, ((0, 0), (0, 0), (max(before, 0), max(after, 0))), "wrap")
        got = F.pad(t64(x), (before, after), mode="circular")
        np.testing.assert_array_equal(got.detach().numpy(), expected)
    with pytest.raises(ShapeError, match="at most the size"):
        F.pad(t64(x), (5, 0), mode="circular")
    with pytest.raises(ShapeError, match="something to wrap around"):
        F.pad(t64(x), (-4, 1), mode="circular")

"""Vision programs in the style of pytorch/examples, written here with `import eager as
torch`: `super_resolution` (convolutions and a PixelShuffle, MSELoss, Adam, PSNR) and
`fast_neural_style`'s TransformerNet (ReflectionPad2d + Conv2d, InstanceNorm2d(affine),
residual blocks, nearest-upsampling conv layers, a Gram-matrix style loss). Each model
class is defined over a library, so the same code builds ours and torch's; torch's
initial state_dict is loaded into ours and the first training steps are compared, and
the jitted step against the eager one."""
import math
import shutil

import numpy as np
import pytest

import eager as torch
import eager.nn.functional as F
import jit as jit_package
from eager import nn
from jit import jit


def super_resolution_net(lib):
    """The super_resolution model: features at low resolution, then r^2 channels shuffled
    into an r-times larger image (small widths here)."""
    class Net(lib.nn.Module):
        def __init__(self, upscale_factor):
            super().__init__()
            self.relu = lib.nn.ReLU()
            self.conv1 = lib.nn.Conv2d(1, 16, (5, 5), (1, 1), (2, 2))
            self.conv2 = lib.nn.Conv2d(16, 16, (3, 3), (1, 1), (1, 1))
            self.conv3 = lib.nn.Conv2d(16, 8, (3, 3), (1, 1), (1, 1))
            self.conv4 = lib.nn.Conv2d(8, upscale_factor ** 2, (3, 3), (1, 1), (1, 1))
            self.pixel_shuffle = lib.nn.PixelShuffle(upscale_factor)
            lib.nn.init.orthogonal_(self.conv1.weight, lib.nn.init.calculate_gain("relu"))
            lib.nn.init.orthogonal_(self.conv2.weight, lib.nn.init.calculate_gain("relu"))
            lib.nn.init.orthogonal_(self.conv3.weight, lib.nn.init.calculate_gain("relu"))
            lib.nn.init.orthogonal_(self.conv4.weight)

        def forward(self, x):
            x = self.relu(self.conv1(x))
            x = self.relu(self.conv2(x))
            x = self.relu(self.conv3(x))
            return self.pixel_shuffle(self.conv4(x))
    return Net


def transformer_net(lib):
    """fast_neural_style's image transformation network, narrowed: reflect-padded
    convolutions, instance norm, residual blocks and upsample-then-convolve layers."""
    nn_, F_ = lib.nn, lib.nn.functional

    class ConvLayer(nn_.Module):
        def __init__(self, cin, cout, kernel_size, stride):
            super().__init__()
            self.reflection_pad = nn_.ReflectionPad2d(kernel_size // 2)
            self.conv2d = nn_.Conv2d(cin, cout, kernel_size, stride)

        def forward(self, x):
            return self.conv2d(self.reflection_pad(x))

    class ResidualBlock(nn_.Module):
        def __init__(self, channels):
            super().__init__()
            self.conv1 = ConvLayer(channels, channels, 3, 1)
            self.in1 = nn_.InstanceNorm2d(channels, affine=True)
            self.conv2 = ConvLayer(channels, channels, 3, 1)
            self.in2 = nn_.InstanceNorm2d(channels, affine=True)
            self.relu = nn_.ReLU()

        def forward(self, x):
            out = self.relu(self.in1(self.conv1(x)))
            return self.in2(self.conv2(out)) + x

    class UpsampleConvLayer(nn_.Module):
        def __init__(self, cin, cout, kernel_size, stride, upsample=None):
            super().__init__()
            self.upsample = upsample
            self.reflection_pad = nn_.ReflectionPad2d(kernel_size // 2)
            self.conv2d = nn_.Conv2d(cin, cout, kernel_size, stride)

        def forward(self, x):
            if self.upsample:
                x = F_.interpolate(x, mode="nearest", scale_factor=self.upsample)
            return self.conv2d(self.reflection_pad(x))

    class TransformerNet(nn_.Module):
        def __init__(self):
            super().__init__()
            self.conv1, self.in1 = ConvLayer(3, 8, 9, 1), nn_.InstanceNorm2d(8, affine=True)
            self.conv2, self.in2 = ConvLayer(8, 16, 3, 2), nn_.InstanceNorm2d(16, affine=True)
            self.conv3, self.in3 = ConvLayer(16, 16, 3, 2), nn_.InstanceNorm2d(16, affine=True)
            self.res1, self.res2 = ResidualBlock(16), ResidualBlock(16)
            self.deconv1 = UpsampleConvLayer(16, 16, 3, 1, upsample=2)
            self.in4 = nn_.InstanceNorm2d(16, affine=True)
            self.deconv2 = UpsampleConvLayer(16, 8, 3, 1, upsample=2)
            self.in5 = nn_.InstanceNorm2d(8, affine=True)
            self.deconv3 = ConvLayer(8, 3, 9, 1)
            self.relu = nn_.ReLU()

        def forward(self, x):
            y = self.relu(self.in1(self.conv1(x)))
            y = self.relu(self.in2(self.conv2(y)))
            y = self.relu(self.in3(self.conv3(y)))
            y = self.res2(self.res1(y))
            y = self.relu(self.in4(self.deconv1(y)))
            y = self.relu(self.in5(self.deconv2(y)))
            return self.deconv3(y)
    return TransformerNet


def gram_matrix(y):
    b, ch, h, w = y.size()
    features = y.view(b, ch, w * h)
    return features.bmm(features.transpose(1, 2)) / (ch * h * w)


def load_from_torch(ours, theirs):
    ours.load_state_dict({k: torch.tensor(v.detach().numpy())
                          for k, v in theirs.state_dict().items()})


def super_resolution_batches(steps, upscale=3, seed=0):
    """Low-resolution inputs and their high-resolution targets (smooth random images)."""
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        target = rng.random((4, 1, 4 * upscale, 4 * upscale)).astype(np.float32)
        target = (target + np.roll(target, 1, axis=2) + np.roll(target, 1, axis=3)) / 3
        low = target.reshape(4, 1, 4, upscale, 4, upscale).mean(axis=(3, 5))
        yield low, target


def train_super_resolution(lib, model, batches, use_jit=False):
    criterion = lib.nn.MSELoss()
    optimizer = lib.optim.Adam(model.parameters(), lr=1e-3)

    def step(x, y):
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
        return loss.detach()
    run = jit(step) if use_jit else step
    losses = [run(lib.tensor(x), lib.tensor(y)).item() for x, y in batches]
    return losses, run


def test_super_resolution_trains_like_torch():
    torch.manual_seed(0)
    model = super_resolution_net(torch)(3)
    assert model(torch.zeros(2, 1, 5, 7)).shape == (2, 1, 15, 21)
    ref = pytest.importorskip("torch")
    ref.manual_seed(0)
    theirs = super_resolution_net(ref)(3)
    load_from_torch(model, theirs)
    losses, _ = train_super_resolution(torch, model, super_resolution_batches(4))
    want, _ = train_super_resolution(ref, theirs, super_resolution_batches(4))
    np.testing.assert_allclose(losses, want, rtol=2e-5)
    for name, p in theirs.named_parameters():
        np.testing.assert_allclose(dict(model.named_parameters())[name].detach().numpy(),
                                   p.detach().numpy(), rtol=1e-4, atol=1e-6)
    with torch.no_grad():   # the program's PSNR on a held-out image
        low, target = next(super_resolution_batches(1, seed=5))
        mse = F.mse_loss(model(torch.tensor(low)), torch.tensor(target))
        psnr = 10 * math.log10(1 / mse.item())
    with ref.no_grad():
        want_mse = ref.nn.functional.mse_loss(theirs(ref.tensor(low)), ref.tensor(target))
    assert abs(psnr - 10 * math.log10(1 / want_mse.item())) < 1e-3


def test_super_resolution_jitted_step_matches_eager_and_replays():
    def fresh():
        torch.manual_seed(1)
        return super_resolution_net(torch)(3)
    want, _ = train_super_resolution(torch, fresh(), super_resolution_batches(4))
    got, run = train_super_resolution(torch, fresh(), super_resolution_batches(4), use_jit=True)
    np.testing.assert_allclose(got, want, rtol=1e-5)
    assert run.cache_info().hits == 3
    assert got[-1] < got[0]


def style_batches(steps, seed=0):
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        yield rng.random((2, 3, 16, 16)).astype(np.float32)


def train_transformer_net(lib, model, style, batches, use_jit=False):
    """fast_neural_style's loop with the VGG features left out: a content loss against
    the input and a style loss between Gram matrices, Adam."""
    optimizer = lib.optim.Adam(model.parameters(), lr=1e-3)
    mse = lib.nn.MSELoss()
    gram_style = gram_matrix(style)

    def step(x):
        optimizer.zero_grad()
        y = model(x)
        content = mse(y, x)
        style_loss = mse(gram_matrix(y), gram_style.expand(x.shape[0], -1, -1))
        loss = 1.0 * content + 10.0 * style_loss
        loss.backward()
        optimizer.step()
        return loss.detach()
    run = jit(step) if use_jit else step
    return [run(lib.tensor(x)).item() for x in batches], run


def test_transformer_net_trains_like_torch():
    torch.manual_seed(0)
    model = transformer_net(torch)()
    assert model(torch.zeros(1, 3, 16, 12)).shape == (1, 3, 16, 12)
    keys = sorted(model.state_dict())
    assert "in1.weight" in keys and "res1.conv1.conv2d.weight" in keys
    ref = pytest.importorskip("torch")
    ref.manual_seed(0)
    theirs = transformer_net(ref)()
    assert keys == sorted(theirs.state_dict())
    load_from_torch(model, theirs)
    style = next(style_batches(1, seed=9))[:1]
    losses, _ = train_transformer_net(torch, model, torch.tensor(style), style_batches(3))
    want, _ = train_transformer_net(ref, theirs, ref.tensor(style), style_batches(3))
    np.testing.assert_allclose(losses, want, rtol=1e-4)
    x = next(style_batches(1, seed=3))
    with torch.no_grad(), ref.no_grad():
        np.testing.assert_allclose(model(torch.tensor(x)).numpy(),
                                   theirs(ref.tensor(x)).numpy(), rtol=1e-3, atol=1e-4)


def test_transformer_net_jitted_step_matches_eager_and_replays():
    def fresh():
        torch.manual_seed(2)
        return transformer_net(torch)()
    style = torch.tensor(next(style_batches(1, seed=9))[:1])
    want, _ = train_transformer_net(torch, fresh(), style, style_batches(3))
    got, run = train_transformer_net(torch, fresh(), style, style_batches(3), use_jit=True)
    np.testing.assert_allclose(got, want, rtol=1e-4)
    assert run.cache_info().hits == 2


def test_transformer_net_stylises_in_eval_mode_without_running_stats():
    # InstanceNorm2d(affine=True) keeps no running statistics: eval normalises each image
    # by its own, so a batch gives what its images give one by one.
    torch.manual_seed(3)
    model = transformer_net(torch)().eval()
    images = torch.rand(2, 3, 16, 16)
    with torch.no_grad():
        both = model(images)
        first = model(images[:1])
    assert isinstance(model.res1.in1, nn.InstanceNorm2d) and model.res1.in1.running_mean is None
    np.testing.assert_allclose(both[:1].numpy(), first.numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.skipif(shutil.which("cc") is None, reason="no C compiler (cc)")
@pytest.mark.parametrize("name", ["super_resolution", "transformer_net"])
def test_vision_models_export_to_c_and_match_eager(name, tmp_path):
    # The gathers of reflect padding and the instance-norm composite reach the C runtime.
    torch.manual_seed(4)
    if name == "super_resolution":
        model, x = super_resolution_net(torch)(3).eval(), torch.rand(1, 1, 8, 8)
    else:
        model, x = transformer_net(torch)().eval(), torch.rand(1, 3, 16, 16)
    jit_package.export(model, (x,), str(tmp_path))
    run = jit_package.load_exported(str(tmp_path))
    with torch.no_grad():
        want = model(x).numpy()
    np.testing.assert_allclose(run(x).numpy(), want, rtol=1e-4, atol=1e-5)

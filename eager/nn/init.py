"""Weight initialisation, in place and without recording gradients (PyTorch's nn.init).

Each function draws from `generator` (default: the device's default generator, seeded by
`eager.manual_seed`), so a seeded model starts from the same weights on every run.

>>> import eager
>>> from eager.nn import init
>>> w = eager.zeros(3, 4)
>>> _ = init.uniform_(w, -0.1, 0.1)
>>> bool((w.abs() <= 0.1).all())
True
"""
from __future__ import annotations

import math

from eager import arguments
from eager.autograd import no_grad
from eager.nn.errors import ArgumentError
from eager.tensor import Tensor
from kernels.errors import ShapeError


def _fill_from(tensor: Tensor, draw: Tensor) -> Tensor:
    with no_grad():
        tensor.copy_(draw)
    return tensor


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator=None) -> Tensor:
    """Fill with samples from U(a, b).

    >>> import eager
    >>> bool((uniform_(eager.zeros(5), 2.0, 3.0) >= 2.0).all())
    True
    """
    from eager.random import uniform

    return _fill_from(tensor, uniform(a, b, tensor.shape, dtype=tensor.dtype,
                                      device=tensor.device, generator=generator))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator=None) -> Tensor:
    """Fill with samples from N(mean, std**2).

    >>> import eager
    >>> normal_(eager.zeros(2, 2)).shape
    (2, 2)
    """
    from eager.random import normal

    return _fill_from(tensor, normal(mean, std, tensor.shape, dtype=tensor.dtype,
                                     device=tensor.device, generator=generator))


def constant_(tensor: Tensor, value: float) -> Tensor:
    """Fill with `value`.

    >>> import eager
    >>> constant_(eager.zeros(2), 3.0).tolist()
    [3.0, 3.0]
    """
    with no_grad():
        tensor.fill_(value)
    return tensor


def zeros_(tensor: Tensor) -> Tensor:
    """Fill with 0."""
    return constant_(tensor, 0.0)


def ones_(tensor: Tensor) -> Tensor:
    """Fill with 1."""
    return constant_(tensor, 1.0)


def fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight: (in, out) features times the kernel size.

    >>> import eager
    >>> fan_in_and_fan_out(eager.zeros(16, 3, 5, 5))
    (75, 400)
    """
    if arguments.tensor("fan_in_and_fan_out", "tensor", tensor).ndim < 2:
        raise ShapeError(f"fan_in_and_fan_out: needs a weight with at least 2 dims, got shape "
                         f"{tensor.shape}")
    receptive = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended scale for a nonlinearity ("linear", "relu", "tanh", "leaky_relu", ...).

    >>> round(calculate_gain("relu"), 4)
    1.4142
    """
    if not isinstance(nonlinearity, str):
        raise ArgumentError(f"calculate_gain: nonlinearity must be a name such as 'relu', got "
                            f"{type(nonlinearity).__name__}")
    if nonlinearity in ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                        "conv_transpose2d", "conv_transpose3d", "sigmoid", "identity"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3.0
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else arguments.real("calculate_gain", "param", param)
        return math.sqrt(2.0 / (1 + slope * slope))
    if nonlinearity == "selu":
        return 3.0 / 4.0
    raise ArgumentError(f"calculate_gain: unknown nonlinearity {nonlinearity!r}")


def _fan(op: str, tensor: Tensor, mode: str) -> int:
    fan_in, fan_out = fan_in_and_fan_out(tensor)
    if mode not in ("fan_in", "fan_out"):
        raise ArgumentError(f"{op}: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    return fan_in if mode == "fan_in" else fan_out


def kaiming_uniform_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu", generator=None) -> Tensor:
    """U(-bound, bound) with bound = gain * sqrt(3 / fan) (He et al., 2015), fan the
    fan_in (default) or fan_out.

    `nn.Linear` and `nn.Conv2d` use a=sqrt(5), which gives bound = 1 / sqrt(fan_in).

    >>> import eager
    >>> w = kaiming_uniform_(eager.zeros(10, 25), a=5 ** 0.5)
    >>> bool((w.abs() <= 0.2).all())
    True
    """
    fan = _fan("kaiming_uniform_", tensor, mode)
    if tensor.size == 0:  # nothing to fill; fan_in may be 0 (PyTorch: a no-op)
        return tensor
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / fan)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu", generator=None) -> Tensor:
    """N(0, std^2) with std = gain / sqrt(fan) (He et al., 2015).

    >>> import eager
    >>> _ = eager.manual_seed(0)
    >>> w = kaiming_normal_(eager.zeros(200, 400), mode="fan_out", nonlinearity="relu")
    >>> round(float(w.std()), 2)  # gain sqrt(2) / sqrt(fan_out = 200)
    0.1
    """
    fan = _fan("kaiming_normal_", tensor, mode)
    if tensor.size == 0:
        return tensor
    return normal_(tensor, 0.0, calculate_gain(nonlinearity, a) / math.sqrt(fan), generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out)) (Glorot, 2010).

    >>> import eager
    >>> xavier_normal_(eager.zeros(3, 3)).shape
    (3, 3)
    """
    fan_in, fan_out = fan_in_and_fan_out(tensor)
    if tensor.size == 0:
        return tensor
    std = arguments.real("xavier_normal_", "gain", gain) * math.sqrt(2.0 / (fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def trunc_normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0,
                  b: float = 2.0, generator=None) -> Tensor:
    """N(mean, std^2) restricted to [a, b], drawn by inverting the normal CDF over the
    uniform draws between the CDF at a and at b (as PyTorch does).

    >>> import eager
    >>> w = trunc_normal_(eager.zeros(1000), std=0.02, a=-0.04, b=0.04)
    >>> bool((w.abs() <= 0.04).all())
    True
    """
    import numpy as np

    from eager.creation import asarray
    from eager.random import uniform

    mean = arguments.real("trunc_normal_", "mean", mean)
    std = arguments.real("trunc_normal_", "std", std, low=0.0)
    a, b = arguments.real("trunc_normal_", "a", a), arguments.real("trunc_normal_", "b", b)
    if a >= b:
        raise ArgumentError(f"trunc_normal_: needs a < b, got a={a}, b={b}")
    cdf = [0.5 * (1.0 + math.erf((v - mean) / (std * math.sqrt(2.0)))) for v in (a, b)]
    u = uniform(2 * cdf[0] - 1, 2 * cdf[1] - 1, tensor.shape, dtype="float64",
                device=tensor.device, generator=generator).numpy()
    draw = np.clip(mean + std * math.sqrt(2.0) * _erfinv(u), a, b)
    return _fill_from(tensor, asarray(draw, dtype=tensor.dtype, device=tensor.device))


def _erfinv(y):
    """Inverse error function on numpy arrays: Giles' (2010) single-precision
    approximation refined by two Newton steps (erf from math, vectorised)."""
    import numpy as np

    w = -np.log((1.0 - y) * (1.0 + y))
    small = w < 5.0
    ws, wl = w - 2.5, np.sqrt(np.maximum(w, 5.0)) - 3.0
    ps = np.polyval([2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06,
                     0.00021858087, -0.00125372503, -0.00417768164, 0.246640727,
                     1.50140941], ws)
    pl = np.polyval([-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844,
                     0.00573950773, -0.0076224613, 0.00943887047, 1.00167406,
                     2.83297682], wl)
    x = np.where(small, ps, pl) * y
    erf = np.vectorize(math.erf)
    for _ in range(2):
        x = x - (erf(x) - y) / (2.0 / math.sqrt(math.pi) * np.exp(-x * x))
    return x


def orthogonal_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """A (semi-)orthogonal matrix (Saxe et al., 2013): QR of a normal draw, signs fixed
    by R's diagonal; dims after the first are flattened.

    >>> import eager
    >>> w = orthogonal_(eager.zeros(3, 3)).numpy()
    >>> bool(abs(w @ w.T - __import__("numpy").eye(3)).max() < 1e-5)
    True
    """
    import numpy as np

    from eager.creation import asarray
    from eager.random import normal

    if arguments.tensor("orthogonal_", "tensor", tensor).ndim < 2:
        raise ShapeError(f"orthogonal_: needs at least 2 dims, got shape {tensor.shape}")
    gain = arguments.real("orthogonal_", "gain", gain)
    rows = tensor.shape[0]
    cols = tensor.size // rows if rows else 0
    if tensor.size == 0:
        return tensor
    flat = normal(0.0, 1.0, (rows, cols), dtype="float64", device=tensor.device,
                  generator=generator).numpy()
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q = q * np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _fill_from(tensor, asarray((gain * q).reshape(tensor.shape), dtype=tensor.dtype,
                                      device=tensor.device))


def eye_(tensor: Tensor) -> Tensor:
    """The identity matrix (ones on the diagonal) in a 2-d tensor.

    >>> import eager
    >>> eye_(eager.zeros(2, 3)).tolist()
    [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    """
    from eager.creation import eye

    if arguments.tensor("eye_", "tensor", tensor).ndim != 2:
        raise ShapeError(f"eye_: needs a 2-d tensor, got shape {tensor.shape}")
    return _fill_from(tensor, eye(*tensor.shape, dtype=tensor.dtype, device=tensor.device))


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """U(-bound, bound) with bound = gain * sqrt(6 / (fan_in + fan_out)) (Glorot, 2010).

    >>> import eager
    >>> bool((xavier_uniform_(eager.zeros(3, 3)).abs() <= 1.0).all())
    True
    """
    fan_in, fan_out = fan_in_and_fan_out(tensor)
    if tensor.size == 0:
        return tensor
    bound = arguments.real("xavier_uniform_", "gain", gain) * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)

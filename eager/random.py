"""Seeded random numbers: `manual_seed`, `Generator`, `rand`, `randn`, `randint`,
`normal`, `uniform`, `randperm`, `multinomial`, `bernoulli`, the `*_like` forms and the
in-place `normal_` / `uniform_`.

The same seed gives the same numbers on every run (PCG64 on cpu). A Generator is passed
to the random ops as an input, so a traced graph draws fresh numbers on every replay.

>>> import eager
>>> _ = eager.manual_seed(0); a = eager.rand(3)
>>> _ = eager.manual_seed(0); b = eager.rand(3)
>>> a.tolist() == b.tolist()
True
"""
from __future__ import annotations

import numpy as np

from eager import arguments
from eager.device import check_device, get_default_device
from eager.dispatch import apply
from eager.ops.elementwise import where
from eager.tensor import Tensor
from kernels import OPS, array_namespace_for, default_int, to_dtype
from kernels.dtypes import current_default_float
from kernels.errors import ArgumentError, DeviceError, DTypeError

_SEED_RANGE = (-(2 ** 63), 2 ** 64)


def _seed(op: str, seed) -> int:
    """An int seed in PyTorch's range; negative seeds wrap to 64 bits as in PyTorch."""
    seed = arguments.integer(op, "seed", seed, limit=2 ** 64)
    if not _SEED_RANGE[0] <= seed < _SEED_RANGE[1]:
        raise ArgumentError(f"{op}: seed must be in [-2**63, 2**64), got {seed}")
    return seed


class Generator:
    """A random number generator for one device, seeded with `manual_seed(seed)`.

    >>> import eager
    >>> a = eager.rand(2, generator=eager.Generator(seed=1))
    >>> b = eager.rand(2, generator=eager.Generator(seed=1))
    >>> a.tolist() == b.tolist()
    True
    """

    def __init__(self, device: str | None = None, seed: int | None = None) -> None:
        self.device = check_device(device or get_default_device())
        self._seed = 0 if seed is None else _seed("Generator", seed)
        self._rng = self._new_backend_rng(self._seed)

    def _new_backend_rng(self, seed: int):
        seed %= 2 ** 64
        if self.device == "cpu":
            return np.random.Generator(np.random.PCG64(seed))
        return array_namespace_for(self.device).random.default_rng(seed)

    def manual_seed(self, seed: int) -> Generator:
        """Restart the stream from `seed` (the Generator object stays the same)."""
        self._seed = _seed("Generator.manual_seed", seed)
        self._rng = self._new_backend_rng(self._seed)
        return self

    def initial_seed(self) -> int:
        """The seed last given to this generator."""
        return self._seed

    def get_state(self) -> dict:
        """The generator's state, for checkpoints (cpu only)."""
        return dict(self._rng.bit_generator.state)

    def set_state(self, state: dict) -> None:
        """Restore a state from get_state()."""
        self._rng.bit_generator.state = state

    def random(self, shape, dtype):
        """Uniform [0, 1) backend array (used by the `uniform` kernel)."""
        return self._rng.random(shape, dtype=dtype)

    def standard_normal(self, shape, dtype):
        """Standard normal backend array (used by the `normal` kernel)."""
        return self._rng.standard_normal(shape, dtype=dtype)

    def __repr__(self) -> str:
        return f"Generator(device='{self.device}', seed={self._seed})"


_default_generators: dict[str, Generator] = {}


def default_generator(device: str | None = None) -> Generator:
    """The process-wide generator of a device.

    >>> import eager
    >>> from eager.random import default_generator
    >>> default_generator("cpu").device
    'cpu'
    """
    device = check_device(device or get_default_device())
    gen = _default_generators.get(device)
    if gen is None:
        gen = _default_generators[device] = Generator(device)
    return gen


def manual_seed(seed: int) -> Generator:
    """Seed the default generators of every device; returns the default one.

    >>> import eager
    >>> _ = eager.manual_seed(0); first = eager.randn(2).tolist()
    >>> _ = eager.manual_seed(0); eager.randn(2).tolist() == first
    True
    """
    seed = _seed("manual_seed", seed)
    for gen in _default_generators.values():
        gen.manual_seed(seed)
    gen = default_generator()
    gen.manual_seed(seed)
    return gen


def _gen(op: str, generator, device) -> Generator:
    if generator is None:
        return default_generator(device)
    if not isinstance(generator, Generator):
        raise ArgumentError(f"{op}: generator must be an eager.Generator, got "
                            f"{type(generator).__name__}")
    if device is not None and str(device).split(":")[0] != generator.device:
        raise DeviceError(f"random: generator is on {generator.device} but device={device!r} "
                          "was asked for; pass a generator of that device")
    return generator


def uniform(low=0.0, high=1.0, size=(), *, dtype=None, device=None, generator=None,
            requires_grad: bool = False):
    """Uniform samples in [low, high).

    >>> import eager
    >>> t = eager.uniform(-1.0, 1.0, (1000,))
    >>> bool((t >= -1).all() and (t < 1).all())
    True
    """
    out = _uniform("uniform", low, high, size, dtype, device, generator)
    return out.requires_grad_() if requires_grad else out


def _float_dtype(op: str, dtype) -> np.dtype:
    dtype = to_dtype(current_default_float() if dtype is None else dtype)
    if dtype.kind != "f":
        raise DTypeError(f"{op}: dtype must be floating, got {dtype.name}")
    return dtype


def _uniform(op, low, high, size, dtype, device, generator) -> Tensor:
    low, high = arguments.real(op, "low", low), arguments.real(op, "high", high)
    if low > high:
        raise ArgumentError(f"{op}: low ({low}) must not be greater than high ({high})")
    shape, dtype = arguments.shape(op, size), _float_dtype("uniform", dtype)
    gen = _gen(op, generator, device)
    return apply(OPS["uniform"], gen, shape=shape, dtype=dtype, low=low, high=high,
                 device=gen.device)


def _normal(op, mean, std, size, dtype, device, generator) -> Tensor:
    mean = arguments.real(op, "mean", mean)
    std = arguments.real(op, "std", std, low=0.0)
    shape, dtype = arguments.shape(op, size), _float_dtype("normal", dtype)
    gen = _gen(op, generator, device)
    return apply(OPS["normal"], gen, shape=shape, dtype=dtype, mean=mean, std=std,
                 device=gen.device)


def normal(mean=0.0, std=1.0, size=(), *, dtype=None, device=None, generator=None,
           requires_grad: bool = False):
    """Normal samples with the given mean and standard deviation. mean and std may be
    tensors (PyTorch's `normal(mean_tensor, std_tensor)`): the result has their broadcast
    shape, and, as in PyTorch, their gradients through it are zero (it is a sample, not a
    reparameterisation; write `mean + std * randn_like(std)` for that).

    >>> import eager
    >>> eager.normal(0.0, 1.0, (2, 3)).shape
    (2, 3)
    >>> eager.normal(eager.zeros(4), 1.0).shape
    (4,)
    """
    if type(mean) is Tensor or type(std) is Tensor:
        from kernels.shapes import broadcast_shapes

        shape = broadcast_shapes("normal", *(t.shape for t in (mean, std) if type(t) is Tensor))
        like = mean if type(mean) is Tensor else std
        noise = _normal("normal", 0.0, 1.0, shape, dtype or like.dtype, device or like.device,
                        generator)
        plain = [t.detach() if type(t) is Tensor else t for t in (mean, std)]
        out = noise * plain[1] + plain[0]
        never = apply(OPS["full"], shape=(), value=False, dtype=np.dtype(bool),
                      device=out.device)
        for t in (mean, std):
            if type(t) is Tensor and t.requires_grad:
                out = where(never, t, out)  # the value of out, a gradient of 0 for t
    else:
        out = _normal("normal", mean, std, size, dtype, device, generator)
    return out.requires_grad_() if requires_grad else out


def rand(*shape, dtype=None, device=None, generator=None, requires_grad=False) -> Tensor:
    """Uniform samples in [0, 1): `rand(2, 3)`.

    >>> import eager
    >>> eager.rand(2, 3, dtype=eager.float64).dtype
    dtype('float64')
    """
    out = _uniform("rand", 0.0, 1.0, shape, dtype, device, generator)
    return out.requires_grad_() if requires_grad else out


def randn(*shape, dtype=None, device=None, generator=None, requires_grad=False) -> Tensor:
    """Standard normal samples: `randn(2, 3)`.

    >>> import eager
    >>> eager.randn(4).shape
    (4,)
    """
    out = _normal("randn", 0.0, 1.0, shape, dtype, device, generator)
    return out.requires_grad_() if requires_grad else out


def randint(low, high=None, size=(), *, dtype=None, device=None, generator=None) -> Tensor:
    """Integers drawn uniformly from [low, high): `randint(0, 10, (3,))` or
    `randint(10, (3,))`.

    >>> import eager
    >>> sorted(set(eager.randint(0, 3, (200,)).tolist()))
    [0, 1, 2]
    """
    if high is None:
        low, high = 0, low
    if isinstance(high, (tuple, list)):
        low, high, size = 0, low, high
    low, high = arguments.integer("randint", "low", low), arguments.integer("randint", "high", high)
    if low >= high:
        raise ArgumentError(f"randint: low ({low}) must be less than high ({high})")
    draw = _uniform("randint", 0.0, 1.0, size, np.float64, device, generator)
    values = (draw * (high - low)).floor() + low
    return values.astype(to_dtype(default_int if dtype is None else dtype), copy=False)


def randperm(n: int, *, device=None, generator=None) -> Tensor:
    """A random permutation of 0..n-1.

    >>> import eager
    >>> sorted(eager.randperm(4).tolist())
    [0, 1, 2, 3]
    """
    n = arguments.integer("randperm", "n", n, minimum=0)
    return _uniform("randperm", 0.0, 1.0, (n,), np.float64, device, generator).argsort()


def rand_like(x: Tensor, *, dtype=None, device=None, generator=None,
              requires_grad: bool = False) -> Tensor:
    """Uniform [0, 1) samples of x's shape (and dtype and device unless given).

    >>> import eager
    >>> eager.rand_like(eager.zeros(2, 3, dtype=eager.float64)).dtype
    dtype('float64')
    """
    return rand(*x.shape, dtype=dtype or x.dtype, device=device or x.device,
                generator=generator, requires_grad=requires_grad)


def randn_like(x: Tensor, *, dtype=None, device=None, generator=None,
               requires_grad: bool = False) -> Tensor:
    """Standard normal samples of x's shape (and dtype and device unless given).

    >>> import eager
    >>> eager.randn_like(eager.zeros(2, 3)).shape
    (2, 3)
    """
    return randn(*x.shape, dtype=dtype or x.dtype, device=device or x.device,
                 generator=generator, requires_grad=requires_grad)


def randint_like(x: Tensor, low, high=None, *, dtype=None, device=None,
                 generator=None) -> Tensor:
    """Integers from [low, high) (or [0, low)) of x's shape, dtype and device.

    >>> import eager
    >>> eager.randint_like(eager.zeros(3, dtype=eager.int32), 5).dtype
    dtype('int32')
    """
    return randint(low, high, x.shape, dtype=dtype or x.dtype, device=device or x.device,
                   generator=generator)


def bernoulli(p: Tensor, *, generator=None) -> Tensor:
    """1.0 with probability p, else 0.0, elementwise (p's shape and dtype).

    >>> import eager
    >>> eager.bernoulli(eager.tensor([0.0, 1.0])).tolist()
    [0.0, 1.0]
    """
    p = arguments.tensor("bernoulli", "p", p)
    draw = _uniform("bernoulli", 0.0, 1.0, p.shape, _float_dtype("bernoulli", p.dtype),
                    p.device, generator)
    return (draw < p.detach()).astype(p.dtype)


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *,
                generator=None) -> Tensor:
    """Draw num_samples category indices from each row of `input`, a 1-D or 2-D tensor
    of non-negative weights (normalised per row). Without replacement every index is drawn
    at most once (the Gumbel top-k method); with it, by the inverse of the cumulative sum.
    Composite, so a jitted function draws fresh samples on every call.

    >>> import eager
    >>> g = eager.Generator(seed=0)
    >>> eager.multinomial(eager.tensor([0.0, 1.0, 0.0]), 2, replacement=True,
    ...                   generator=g).tolist()
    [1, 1]
    >>> sorted(eager.multinomial(eager.tensor([1.0, 1.0, 1.0]), 3, generator=g).tolist())
    [0, 1, 2]
    """
    weights = arguments.tensor("multinomial", "input", input)
    if weights.ndim not in (1, 2) or weights.dtype.kind != "f":
        raise ArgumentError(f"multinomial: input must be a 1-D or 2-D floating tensor of "
                            f"weights, got {weights.dtype.name}{list(weights.shape)}")
    num_samples = arguments.integer("multinomial", "num_samples", num_samples, minimum=1)
    replacement = arguments.boolean("multinomial", "replacement", replacement)
    rows = weights.detach() if weights.ndim == 2 else weights.detach().reshape(1, -1)
    n_rows, n = rows.shape
    if not replacement and num_samples > n:
        raise ArgumentError(f"multinomial: cannot draw {num_samples} samples without "
                            f"replacement from {n} categories")
    gen = _gen("multinomial", generator, rows.device)
    if replacement:
        cdf = rows.cumsum(1)
        cdf = cdf / cdf[:, -1:]
        draw = apply(OPS["uniform"], gen, shape=(n_rows, num_samples, 1), dtype=rows.dtype,
                     low=0.0, high=1.0, device=gen.device)
        # The sample is how many cumulative weights lie at or below the draw; the last
        # category caps it, so rounding in the sum never gives index n.
        out = (cdf[:, :-1].unsqueeze(1) <= draw).sum(dim=2)
    else:
        draw = apply(OPS["uniform"], gen, shape=(n_rows, n), dtype=rows.dtype, low=0.0,
                     high=1.0, device=gen.device)
        # Gumbel top-k: the k largest log(w) - log(-log(u)) are a draw without replacement;
        # zero weights get -inf and so are taken only once the others are used up.
        tiny = float(np.finfo(rows.dtype).tiny)
        gumbel = -((-(draw.clip(tiny, None)).log()).log())
        keys = where(rows > 0, rows.clip(tiny, None).log(), -np.inf) + gumbel
        out = keys.argsort(dim=1, descending=True)[:, :num_samples]
    return out if weights.ndim == 2 else out.reshape(-1)


def normal_(x: Tensor, mean: float = 0.0, std: float = 1.0, *, generator=None) -> Tensor:
    """Fill x in place with normal samples (PyTorch's `Tensor.normal_`).

    >>> import eager
    >>> x = eager.zeros(1000); _ = x.normal_(2.0, 0.5)
    >>> abs(x.mean().item() - 2.0) < 0.1
    True
    """
    from eager.ops.inplace import inplace_update

    value = _normal("normal_", mean, std, x.shape, x.dtype, x.device, generator)
    return inplace_update(x, value, "normal_")


def uniform_(x: Tensor, a: float = 0.0, b: float = 1.0, *, generator=None) -> Tensor:
    """Fill x in place with uniform samples from [a, b) (PyTorch's `Tensor.uniform_`).

    >>> import eager
    >>> x = eager.zeros(100); _ = x.uniform_(-1.0, 1.0)
    >>> bool((x >= -1).all() and (x < 1).all())
    True
    """
    from eager.ops.inplace import inplace_update

    value = _uniform("uniform_", a, b, x.shape, x.dtype, x.device, generator)
    return inplace_update(x, value, "uniform_")

"""Seeded random numbers: `manual_seed`, `Generator`, `rand`, `randn`, `randint`,
`normal`, `uniform`, `randperm`.

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
from eager.tensor import Tensor
from kernels import OPS, array_namespace_for, default_float, default_int, to_dtype
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


def uniform(low=0.0, high=1.0, size=(), *, dtype=None, device=None, generator=None):
    """Uniform samples in [low, high).

    >>> import eager
    >>> t = eager.uniform(-1.0, 1.0, (1000,))
    >>> bool((t >= -1).all() and (t < 1).all())
    True
    """
    return _uniform("uniform", low, high, size, dtype, device, generator)


def _float_dtype(op: str, dtype) -> np.dtype:
    dtype = to_dtype(default_float if dtype is None else dtype)
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


def normal(mean=0.0, std=1.0, size=(), *, dtype=None, device=None, generator=None):
    """Normal samples with the given mean and standard deviation.

    >>> import eager
    >>> eager.normal(0.0, 1.0, (2, 3)).shape
    (2, 3)
    """
    return _normal("normal", mean, std, size, dtype, device, generator)


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

"""Resizing with PyTorch's arguments: `F.interpolate` (nearest, nearest-exact, linear,
bilinear, bicubic, trilinear, area) and the layers `Upsample`, `UpsamplingNearest2d`,
`UpsamplingBilinear2d`.

Every mode is separable, so the resize runs one spatial axis at a time. Nearest modes
are one gather per axis (a broadcast and a reshape for a whole-number factor); linear
modes two gathers and a blend; bicubic four gathers weighted by Keys' cubic (a = -0.75,
edges clamped); area one matmul with an averaging matrix per axis. All are composites of
primitives, so autograd, the tracer and the fuser see through them. Source positions
follow PyTorch's cpu kernels, including the float32 arithmetic of the nearest modes, so
the same pixels are picked.

>>> import eager
>>> from eager import nn
>>> up = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True)
>>> [round(v, 4) for v in up(eager.tensor([[[[0.0, 3.0]]]]))[0, 0, 1].tolist()]
[0.0, 1.0, 2.0, 3.0]
"""
from __future__ import annotations

import math

import numpy as np

from eager import arguments
from eager.dispatch import user_line_suffix
from eager.nn.errors import ArgumentError
from eager.nn.module import Module
from eager.ops.linalg import matmul
from eager.tensor import Tensor
from kernels.errors import DTypeError, ShapeError

_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area")
_RANK_OF = {"linear": 3, "bilinear": 4, "bicubic": 4, "trilinear": 5}
_CUBIC_A = -0.75


def take_along(x: Tensor, axis: int, positions: np.ndarray) -> Tensor:
    """x indexed along axis by a fixed integer array (a gather whose gradient adds up).

    >>> import eager
    >>> take_along(eager.tensor([[1.0, 2.0]]), 1, np.array([1, 1, 0])).tolist()
    [[2.0, 2.0, 1.0]]
    """
    from eager.creation import asarray

    key = (slice(None),) * axis + (asarray(positions, device=x.device),)
    return x[key]


def _output_sizes(x: Tensor, size, scale_factor, recompute: bool | None
                  ) -> tuple[tuple[int, ...], tuple[float | None, ...]]:
    """The output spatial sizes and, per axis, the scale factor the kernels map
    positions with (None: in / out, as PyTorch when size is given or recomputed)."""
    spatial = x.shape[2:]
    if size is not None and scale_factor is not None:
        raise ArgumentError("interpolate: give only one of size and scale_factor, got both")
    if size is None and scale_factor is None:
        raise ArgumentError("interpolate: give one of size and scale_factor, got neither")
    if size is not None:
        if recompute is not None:
            raise ArgumentError("interpolate: recompute_scale_factor is not meaningful with "
                                "an explicit size")
        sizes = tuple(size) if isinstance(size, (tuple, list)) else (size,) * len(spatial)
        if len(sizes) != len(spatial):
            raise ArgumentError(f"interpolate: size {size!r} needs {len(spatial)} entries "
                                f"for input {x.shape}")
        sizes = tuple(arguments.integer("interpolate", "size", s, minimum=1) for s in sizes)
        return sizes, (None,) * len(spatial)
    factors = tuple(scale_factor) if isinstance(scale_factor, (tuple, list)) \
        else (scale_factor,) * len(spatial)
    if len(factors) != len(spatial):
        raise ArgumentError(f"interpolate: scale_factor {scale_factor!r} needs "
                            f"{len(spatial)} entries for input {x.shape}")
    factors = tuple(arguments.real("interpolate", "scale_factor", f, low=0.0, low_open=True)
                    for f in factors)
    sizes = tuple(math.floor(float(i * f)) for i, f in zip(spatial, factors))
    if min(sizes, default=1) < 1:
        raise ShapeError(f"interpolate: scale_factor {scale_factor!r} makes an empty output "
                         f"{sizes} from input {x.shape}{user_line_suffix()}")
    return sizes, (None,) * len(spatial) if recompute else factors


def _nearest_positions(in_size: int, out_size: int, factor: float | None,
                       exact: bool) -> np.ndarray:
    """PyTorch's nearest source index: floor(dst * scale) in float32 (the legacy mode),
    or floor((dst + 0.5) * scale) for nearest-exact, clamped to the input."""
    if factor is None or factor * in_size == out_size:   # the factor is the size ratio
        if out_size == in_size:
            return np.arange(out_size)
        if out_size == 2 * in_size and not exact:
            return np.arange(out_size) >> 1
    scale = np.float32(in_size) / np.float32(out_size) if factor is None \
        else np.float32(1.0 / factor)
    if exact:  # (dst + 0.5) * scale is a double there, rounded to float for floorf
        src = ((np.arange(out_size) + 0.5) * np.float64(scale)).astype(np.float32)
    else:
        src = np.arange(out_size, dtype=np.float32) * scale
    return np.minimum(np.floor(src).astype(np.int64), in_size - 1)


def _nearest_axis(x: Tensor, axis: int, out_size: int, factor: float | None,
                  exact: bool) -> Tensor:
    in_size = x.shape[axis]
    positions = _nearest_positions(in_size, out_size, factor, exact)
    if np.array_equal(positions, np.arange(in_size)):
        return x
    repeat = out_size // in_size
    if repeat > 1 and out_size == repeat * in_size and \
            np.array_equal(positions, np.arange(out_size) // repeat):
        # each input repeated `repeat` times: a broadcast view and one copy, no gather
        wide = x.unsqueeze(axis + 1)
        shape = wide.shape[:axis + 1] + (repeat,) + wide.shape[axis + 2:]
        return wide.expand(*shape).reshape(x.shape[:axis] + (out_size,) + x.shape[axis + 1:])
    return take_along(x, axis, positions)


def _source_coordinates(in_size: int, out_size: int, factor: float | None,
                        align_corners: bool, cubic: bool) -> np.ndarray:
    """PyTorch's area_pixel_compute_source_index for each output position."""
    dst = np.arange(out_size, dtype=np.float64)
    if align_corners:
        return dst * ((in_size - 1) / (out_size - 1)) if out_size > 1 else np.zeros_like(dst)
    scale = in_size / out_size if factor is None else 1.0 / factor
    src = (dst + 0.5) * scale - 0.5
    return src if cubic else np.maximum(src, 0.0)


def _weights(frac: np.ndarray, x: Tensor, axis: int) -> Tensor:
    """Per-position weights as a constant that broadcasts along `axis` of x."""
    from eager.creation import asarray

    return asarray(frac.reshape((-1,) + (1,) * (x.ndim - axis - 1)), dtype=x.dtype,
                   device=x.device)


def _along(x: Tensor, axis: int, start: int, stop: int) -> Tensor:
    return x[(slice(None),) * axis + (slice(start, stop),)]


def _phase_shifts(taps, in_size: int, repeat: int) -> list[list[int]] | None:
    """For out = repeat * in, the shift d of each tap and phase p when tap positions
    read clip(k + d, 0, in - 1) at output k * repeat + p and the weights repeat with the
    phase (an integer upscale without align_corners); None otherwise."""
    middle, rows = in_size // 2, np.arange(in_size)
    shifts = []
    for positions, weights in taps:
        per_phase = []
        for p in range(repeat):
            d = int(positions[middle * repeat + p]) - middle
            if not np.array_equal(positions[p::repeat], np.clip(rows + d, 0, in_size - 1)) \
                    or not np.all(weights[p::repeat] == weights[p]):
                return None
            per_phase.append(d)
        shifts.append(per_phase)
    return shifts


def _blend(x: Tensor, axis: int, taps: list[tuple[np.ndarray, np.ndarray]]) -> Tensor:
    """sum over taps of weights * x[positions] along axis. An integer upscale is done
    with shifted slices of the edge-extended input, interleaved by phase: the gathers'
    gradient (a scatter-add) costs several times the whole forward on cpu."""
    from eager.ops.shape import concat, stack

    in_size, out_size = x.shape[axis], len(taps[0][0])
    repeat = out_size // in_size if in_size else 0
    shifts = _phase_shifts(taps, in_size, repeat) if repeat >= 2 and \
        out_size == repeat * in_size else None
    if shifts is None:
        out = None
        for positions, weights in taps:
            tap = take_along(x, axis, positions) * _weights(weights, x, axis)
            out = tap if out is None else out + tap
        return out
    margin = max(abs(d) for per_phase in shifts for d in per_phase)
    edges = [_along(x, axis, 0, 1)] * margin, [_along(x, axis, in_size - 1, in_size)] * margin
    wide = concat([*edges[0], x, *edges[1]], axis=axis) if margin else x
    phases = []
    for p in range(repeat):
        out = None
        for (_, weights), per_phase in zip(taps, shifts):
            start = margin + per_phase[p]
            tap = _along(wide, axis, start, start + in_size) * float(weights[p])
            out = tap if out is None else out + tap
        phases.append(out)
    both = stack(phases, axis=axis + 1)
    return both.reshape(x.shape[:axis] + (out_size,) + x.shape[axis + 1:])


def _linear_axis(x: Tensor, axis: int, out_size: int, factor: float | None,
                 align_corners: bool) -> Tensor:
    in_size = x.shape[axis]
    # PyTorch clamps a negative source to 0, where both taps read x[0]; leaving it
    # negative reads x[0] twice with weights summing to 1, the same value, and keeps the
    # weights periodic for _blend
    src = _source_coordinates(in_size, out_size, factor, align_corners, cubic=True)
    base = np.minimum(np.floor(src).astype(np.int64), in_size - 1)
    frac = src - base
    return _blend(x, axis, [(np.clip(base, 0, in_size - 1), 1.0 - frac),
                            (np.clip(base + 1, 0, in_size - 1), frac)])


def _cubic_weights(t: np.ndarray) -> list[np.ndarray]:
    """Keys' cubic convolution weights of the taps at floor - 1 .. floor + 2."""
    a = _CUBIC_A

    def near(d):  # |d| <= 1
        return ((a + 2) * d - (a + 3)) * d * d + 1

    def far(d):  # 1 < |d| < 2
        return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a

    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def _cubic_axis(x: Tensor, axis: int, out_size: int, factor: float | None,
                align_corners: bool) -> Tensor:
    in_size = x.shape[axis]
    src = _source_coordinates(in_size, out_size, factor, align_corners, cubic=True)
    base = np.minimum(np.floor(src).astype(np.int64), in_size - 1)
    weights = _cubic_weights(np.clip(src - base, 0.0, 1.0))
    return _blend(x, axis, [(np.clip(base - 1 + k, 0, in_size - 1), w)
                            for k, w in enumerate(weights)])


def averaging_matrix(in_size: int, out_size: int) -> np.ndarray:
    """(out_size, in_size) rows that average PyTorch's adaptive-pooling windows
    (start = floor(i in / out), end = ceil((i + 1) in / out)).

    >>> averaging_matrix(3, 2).tolist()
    [[0.5, 0.5, 0.0], [0.0, 0.5, 0.5]]
    """
    rows = np.zeros((out_size, in_size))
    for i in range(out_size):
        start = (i * in_size) // out_size
        end = -((-(i + 1) * in_size) // out_size)
        rows[i, start:end] = 1.0 / (end - start)
    return rows


def _area_axis(x: Tensor, axis: int, out_size: int) -> Tensor:
    from eager.creation import asarray

    rows = asarray(averaging_matrix(x.shape[axis], out_size), dtype=x.dtype, device=x.device)
    if axis == x.ndim - 1:
        return matmul(x, rows.T)
    if axis == x.ndim - 2:
        return matmul(rows, x)
    moved = x.movedim(axis, -1)
    return matmul(moved, rows.T).movedim(-1, axis)


def _check_mode(x: Tensor, mode: str, align_corners, antialias) -> None:
    if mode not in _MODES:
        raise ArgumentError(f"interpolate: mode must be one of {_MODES}, got {mode!r}")
    if not 3 <= x.ndim <= 5:
        raise ShapeError(f"interpolate: input must be (N, C, d1[, d2[, d3]]) with 1 to 3 "
                         f"spatial dims, got {x.shape}{user_line_suffix()}")
    wanted = _RANK_OF.get(mode)
    if wanted is not None and x.ndim != wanted:
        raise ShapeError(f"interpolate: mode {mode!r} needs a {wanted}-d input, got "
                         f"{x.shape}{user_line_suffix()}")
    if align_corners is not None and wanted is None:
        raise ArgumentError(f"interpolate: align_corners only applies to the modes linear, "
                            f"bilinear, bicubic and trilinear, not {mode!r}")
    if antialias:
        raise ArgumentError("interpolate: antialias=True is not supported")
    if mode not in ("nearest", "nearest-exact") and x.dtype.kind in "iub":
        raise DTypeError(f"interpolate: mode {mode!r} blends values, so it needs a floating "
                         f"input, got {x.dtype.name}{user_line_suffix()}; use x.float()")


def interpolate(input: Tensor, size=None, scale_factor=None, mode: str = "nearest",
                align_corners: bool | None = None, recompute_scale_factor: bool | None = None,
                antialias: bool = False) -> Tensor:
    """Resize the spatial dims of (N, C, d1[, d2[, d3]]) input to `size`, or by
    `scale_factor` (output = floor(input * factor); the kernels map positions with the
    factor itself unless recompute_scale_factor=True). Modes: "nearest" (PyTorch's legacy
    nearest, source = floor(dst * in / out)), "nearest-exact" (floor((dst + 0.5) * in /
    out)), "linear" (3-d input), "bilinear" / "bicubic" (4-d), "trilinear" (5-d), "area"
    (adaptive average pooling). align_corners=True maps the corner pixels' centres onto
    each other (linear modes and bicubic only).

    >>> import eager
    >>> interpolate(eager.tensor([[[[1.0, 2.0]]]]), scale_factor=2).tolist()
    [[[[1.0, 1.0, 2.0, 2.0], [1.0, 1.0, 2.0, 2.0]]]]
    >>> interpolate(eager.tensor([[[0.0, 1.0]]]), size=4, mode="linear").tolist()
    [[[0.0, 0.25, 0.75, 1.0]]]
    >>> interpolate(eager.tensor([[[0.0, 1.0, 2.0, 3.0]]]), size=2, mode="area").tolist()
    [[[0.5, 2.5]]]
    """
    arguments.tensor("interpolate", "input", input)
    _check_mode(input, mode, align_corners, antialias)
    sizes, factors = _output_sizes(input, size, scale_factor, recompute_scale_factor)
    corners = bool(align_corners)
    out = input
    for k, (o, f) in enumerate(zip(sizes, factors)):
        axis = 2 + k
        if mode in ("nearest", "nearest-exact"):
            out = _nearest_axis(out, axis, o, f, mode == "nearest-exact")
        elif mode == "area":
            out = _area_axis(out, axis, o)
        elif mode == "bicubic":
            out = _cubic_axis(out, axis, o, f, corners)
        elif o != input.shape[axis] or f not in (None, 1.0) and not corners:
            out = _linear_axis(out, axis, o, f, corners)  # else the identity, as PyTorch
    return input.clone() if out is input else out


class Upsample(Module):
    """Resize (N, C, ...) inputs by `F.interpolate` with these arguments.

    >>> import eager
    >>> from eager import nn
    >>> nn.Upsample(scale_factor=2)(eager.ones(1, 3, 4, 4)).shape
    (1, 3, 8, 8)
    """

    def __init__(self, size=None, scale_factor=None, mode: str = "nearest",
                 align_corners: bool | None = None,
                 recompute_scale_factor: bool | None = None) -> None:
        super().__init__()
        self.size = tuple(size) if isinstance(size, list) else size
        if isinstance(scale_factor, (tuple, list)):
            self.scale_factor = tuple(float(f) for f in scale_factor)
        else:
            self.scale_factor = None if scale_factor is None else float(scale_factor)
        self.mode, self.align_corners = mode, align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, x: Tensor) -> Tensor:
        return interpolate(x, self.size, self.scale_factor, self.mode, self.align_corners,
                           self.recompute_scale_factor)

    def extra_repr(self) -> str:
        what = f"scale_factor={self.scale_factor!r}" if self.scale_factor is not None \
            else f"size={self.size!r}"
        return f"{what}, mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """Upsample(mode="nearest") of (N, C, H, W) inputs."""

    def __init__(self, size=None, scale_factor=None) -> None:
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """Upsample(mode="bilinear", align_corners=True) of (N, C, H, W) inputs.

    >>> import eager
    >>> from eager import nn
    >>> nn.UpsamplingBilinear2d(size=(1, 3))(eager.tensor([[[[0.0, 2.0]]]])).tolist()
    [[[[0.0, 1.0, 2.0]]]]
    """

    def __init__(self, size=None, scale_factor=None) -> None:
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)


__all__ = ["Upsample", "UpsamplingBilinear2d", "UpsamplingNearest2d", "averaging_matrix",
           "interpolate", "take_along"]

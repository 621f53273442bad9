"""The strong-Wolfe line search LBFGS runs with `line_search_fn="strong_wolfe"`.

It follows the bracketing-then-zoom scheme of Nocedal & Wright (Algorithms 3.5 and 3.6)
with the choices PyTorch's LBFGS makes, so a ported program takes the same steps: trial
steps come from the minimum of the cubic through two points' values and slopes; while
bracketing, that minimum is kept within [t + 0.01 (t - t_prev), 10 t]; while zooming, a
trial closer than a tenth of the bracket's width to one of its ends is pushed back that
far when the previous trial was also that close (or fell outside); the search gives up
after `max_ls` evaluations or when the bracket is narrower than `tolerance_change`.

The scalars (losses, slopes, steps) are Python floats; the gradients stay tensors.

>>> cubic_minimum(0.0, 0.0, -1.0, 2.0, 0.0, 1.0)
1.0
"""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

__all__ = ["cubic_minimum", "strong_wolfe"]

# evaluate(t) -> (loss, flat gradient, gradient . direction) at x + t * direction
Evaluate = Callable[[float], tuple[float, Any, float]]


def cubic_minimum(x1: float, f1: float, g1: float, x2: float, f2: float, g2: float,
                  bounds: tuple[float, float] | None = None) -> float:
    """The minimiser of the cubic with values f1, f2 and slopes g1, g2 at x1, x2, clipped
    to `bounds` (default: between x1 and x2); the bounds' midpoint when the cubic has no
    minimum.

    >>> cubic_minimum(0.0, 1.0, -2.0, 1.0, 0.0, 0.0)  # f = (1 - x)^2 lies on this cubic
    1.0
    >>> cubic_minimum(0.0, 0.0, 1.0, 1.0, 1.0, 1.0, bounds=(0.0, 4.0))  # a line: no minimum
    2.0
    """
    low, high = bounds if bounds is not None else (min(x1, x2), max(x1, x2))
    if x1 == x2:
        return min(max(x1, low), high)
    d1 = g1 + g2 - 3.0 * (f1 - f2) / (x1 - x2)
    square = d1 * d1 - g1 * g2
    d2 = math.sqrt(square) if square >= 0 else 0.0
    # A zero denominator is a straight line (equal slopes): no minimum, like square < 0.
    denominator = g2 - g1 + 2.0 * d2 if x1 <= x2 else g1 - g2 + 2.0 * d2
    if square < 0 or denominator == 0:
        return (low + high) / 2.0
    if x1 <= x2:
        best = x2 - (x2 - x1) * ((g2 + d2 - d1) / denominator)
    else:
        best = x1 - (x1 - x2) * ((g1 + d2 - d1) / denominator)
    return min(max(best, low), high)


class _Point:
    """A trial step with its loss, gradient and directional derivative."""

    __slots__ = ("f", "g", "gtd", "t")

    def __init__(self, t: float, f: float, g: Any, gtd: float) -> None:
        self.t, self.f, self.g, self.gtd = t, f, g, gtd


def strong_wolfe(evaluate: Evaluate, t: float, f: float, g: Any, gtd: float,
                 d_norm: float, c1: float = 1e-4, c2: float = 0.9,
                 tolerance_change: float = 1e-9,
                 max_ls: int = 25) -> tuple[float, Any, float, int]:
    """Search for a step t along a descent direction satisfying the strong Wolfe
    conditions f(t) <= f + c1 t gtd and |f'(t)| <= -c2 gtd, starting from the trial t.

    `f`, `g`, `gtd` are the loss, gradient and slope at t = 0; `d_norm` is the
    direction's largest absolute entry. Returns (loss, gradient, t, evaluations).

    >>> def evaluate(t):  # f(t) = (t - 3)^2 along the direction 1
    ...     return (t - 3.0) ** 2, None, 2.0 * (t - 3.0)
    >>> strong_wolfe(evaluate, 0.1, 9.0, None, -6.0, 1.0)[2:]  # 0.1 too short; 10x it
    (1.0, 2)
    """
    start = _Point(0.0, f, g, gtd)
    new = _Point(t, *evaluate(t))
    evals, ls_iter = 1, 0
    prev = start
    bracket: list[_Point] = []
    done = False
    while ls_iter < max_ls:
        if new.f > f + c1 * new.t * gtd or (ls_iter > 1 and new.f >= prev.f):
            bracket = [prev, new]
            break
        if abs(new.gtd) <= -c2 * gtd:
            bracket, done = [new], True
            break
        if new.gtd >= 0:
            bracket = [prev, new]
            break
        trial = cubic_minimum(prev.t, prev.f, prev.gtd, new.t, new.f, new.gtd,
                              bounds=(new.t + 0.01 * (new.t - prev.t), new.t * 10.0))
        prev = new
        new = _Point(trial, *evaluate(trial))
        evals += 1
        ls_iter += 1
    if ls_iter == max_ls:
        bracket = [start, new]
    if done:
        return new.f, new.g, new.t, evals
    low, high = (0, 1) if bracket[0].f <= bracket[-1].f else (1, 0)
    insufficient = False
    while not done and ls_iter < max_ls:
        a, b = bracket
        if abs(b.t - a.t) * d_norm < tolerance_change:
            break
        trial = cubic_minimum(a.t, a.f, a.gtd, b.t, b.f, b.gtd)
        lo_t, hi_t = min(a.t, b.t), max(a.t, b.t)
        margin = 0.1 * (hi_t - lo_t)
        if min(hi_t - trial, trial - lo_t) < margin:
            # Too close to an end twice running (or outside): step a tenth inside instead.
            if insufficient or trial >= hi_t or trial <= lo_t:
                trial = hi_t - margin if abs(trial - hi_t) < abs(trial - lo_t) else lo_t + margin
                insufficient = False
            else:
                insufficient = True
        else:
            insufficient = False
        new = _Point(trial, *evaluate(trial))
        evals += 1
        ls_iter += 1
        if new.f > f + c1 * trial * gtd or new.f >= bracket[low].f:
            bracket[high] = new
            low, high = (0, 1) if bracket[0].f <= bracket[1].f else (1, 0)
        else:
            if abs(new.gtd) <= -c2 * gtd:
                done = True
            elif new.gtd * (bracket[high].t - bracket[low].t) >= 0:
                bracket[high] = bracket[low]
            bracket[low] = new
    best = bracket[low]
    return best.f, best.g, best.t, evals

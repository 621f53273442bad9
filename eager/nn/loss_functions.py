"""Loss functions with PyTorch's arguments and reductions; re-exported by
`eager.nn.functional` (which also keeps `cross_entropy` and `mse_loss`).

Class-index losses accept inputs (N, C) or (N, C, d1, ...) with targets (N,) or
(N, d1, ...), `weight` per class, and `ignore_index` (default -100, as in PyTorch):
ignored positions add nothing and are left out of the mean. A target outside [0, C)
that is not ignore_index raises TargetError (numpy would wrap a negative one).

>>> import eager
>>> import eager.nn.functional as F
>>> logp = F.log_softmax(eager.zeros(3, 4), dim=1)
>>> round(F.nll_loss(logp, eager.tensor([1, -100, 2])).item(), 4)
1.3863
"""
from __future__ import annotations

from eager import arguments
from eager.autograd import no_grad
from eager.dispatch import user_line_suffix
from eager.nn.activation_functions import logsigmoid
from eager.nn.errors import ArgumentError, TargetError
from eager.ops import elementwise as E
from eager.ops import reductions as R
from eager.ops.indexing import gather_in_range
from eager.ops.operands import promote
from eager.ops.shape import moveaxis, squeeze, unsqueeze
from eager.tensor import Tensor
from kernels.errors import DTypeError, ShapeError

REDUCTIONS = ("mean", "sum", "none")


def check_reduction(op: str, reduction) -> str:
    """reduction itself if it is "mean", "sum" or "none" (ArgumentError otherwise)."""
    if not isinstance(reduction, str) or reduction not in REDUCTIONS:
        raise ArgumentError(f"{op}: reduction must be one of {REDUCTIONS}, got {reduction!r}")
    return reduction


def reduce(loss: Tensor, reduction: str) -> Tensor:
    """mean, sum, or the elementwise loss itself ("none")."""
    if reduction == "mean":
        return R.mean(loss)
    if reduction == "sum":
        return R.sum(loss)
    return loss


def _class_layout(op: str, input: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
    """input with its class axis moved last, and target of the matching shape, for inputs
    (C,), (N, C) or (N, C, d1, ...) and integer targets (), (N,) or (N, d1, ...)."""
    if input.ndim == 0:
        raise ShapeError(f"{op}: input must have a class dimension, got a 0-d tensor"
                         f"{user_line_suffix()}")
    expected = input.shape[:1] + input.shape[2:] if input.ndim > 1 else ()
    if target.shape != expected:
        raise ShapeError(f"{op}: target of shape {target.shape} does not match input of shape "
                         f"{input.shape}; expected {expected}{user_line_suffix()}")
    return (moveaxis(input, 1, -1) if input.ndim > 1 else input), target


def _check_weight(op: str, weight: Tensor | None, classes: int) -> None:
    arguments.optional_tensor(op, "weight", weight)
    if weight is not None and weight.shape != (classes,):
        raise ShapeError(f"{op}: weight must have shape ({classes},), one per class, got "
                         f"{weight.shape}{user_line_suffix()}")


def _valid_targets(op: str, target: Tensor, classes: int, ignore_index: int
                   ) -> tuple[Tensor, Tensor]:
    """(mask of positions not ignored, target with ignored positions set to class 0)."""
    if target.dtype.kind not in "iu":
        raise DTypeError(f"{op}: target must hold integer class indices, got "
                         f"{target.dtype.name}{user_line_suffix()}; use target.long()")
    valid = target != ignore_index
    # A host read (a guard when traced): numpy would wrap a negative index silently.
    outside = ((target < 0) | (target >= classes)) & valid
    if target.size and bool(outside.any()):
        raise _target_outside(op, classes, ignore_index, target[outside].tolist()[0])
    return valid, E.where(valid, target, 0)


def raise_if_target_outside(op: str, target: Tensor, classes: int, ignore_index: int
                            ) -> None:
    """_valid_targets' range check on the raw array (no dispatches), for eager fast paths."""
    t = target._data
    outside = ((t < 0) | (t >= classes)) & (t != ignore_index)
    if t.size and bool(outside.any()):
        raise _target_outside(op, classes, ignore_index, int(t[outside][0]))


def _target_outside(op: str, classes: int, ignore_index: int, first: int) -> TargetError:
    return TargetError(f"{op}: a target is outside [0, {classes}) and is not ignore_index "
                       f"{ignore_index} (the first is {first}){user_line_suffix()}")


def _picked_nll(logp: Tensor, valid: Tensor, safe: Tensor, weight: Tensor | None,
                reduction: str) -> Tensor:
    """nll over logp whose class axis is last, given the checked targets (valid, safe);
    the shared core of nll_loss and cross_entropy."""
    picked = squeeze(gather_in_range(logp, -1, unsqueeze(safe, -1)), -1)
    w = E.astype(valid, logp.dtype)
    if weight is not None:
        w = w * weight[safe]
    # `where`, not the product alone: an ignored position gets exactly zero gradient even
    # when the mean's divisor is 0 (every target ignored), as in torch; -picked * 0 would
    # carry the divisor's 1/0 into a NaN gradient.
    loss = E.where(valid, -picked * w, 0.0)
    if reduction == "mean":
        return R.sum(loss) / R.sum(w)
    return reduce(loss, reduction)


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,
             ignore_index: int = -100, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood: -input[n, target[n]] (times weight[target[n]]), for
    log-probabilities input (N, C, ...) and class targets (N, ...). The mean divides by
    the summed weights of the positions not ignored.

    >>> import eager
    >>> nll_loss(eager.tensor([[-1.0, -2.0]]), eager.tensor([1])).item()
    2.0
    """
    arguments.tensor("nll_loss", "input", input)
    arguments.tensor("nll_loss", "target", target)
    reduction = check_reduction("nll_loss", reduction)
    ignore_index = arguments.integer("nll_loss", "ignore_index", ignore_index)
    logp, target = _class_layout("nll_loss", input, target)
    _check_weight("nll_loss", weight, logp.shape[-1])
    valid, safe = _valid_targets("nll_loss", target, logp.shape[-1], ignore_index)
    return _picked_nll(logp, valid, safe, weight, reduction)


def cross_entropy_general(input: Tensor, target: Tensor, weight: Tensor | None,
                          ignore_index: int, reduction: str, label_smoothing: float
                          ) -> Tensor:
    """PyTorch's cross_entropy in full: class-index or probability targets (a floating
    target of input's shape), N-d inputs, weight, ignore_index and label_smoothing."""
    from eager.nn.functional import log_softmax

    op = "cross_entropy"
    smoothing = arguments.real(op, "label_smoothing", label_smoothing, low=0.0, high=1.0)
    if input.ndim == 0:
        raise ShapeError(f"{op}: input must have a class dimension, got a 0-d tensor"
                         f"{user_line_suffix()}")
    class_axis = 1 if input.ndim > 1 else 0
    classes = input.shape[class_axis]
    logp = log_softmax(input, dim=class_axis)
    if target.dtype.kind == "f":
        if target.shape != input.shape:
            raise ShapeError(f"{op}: probability targets must have the input's shape "
                             f"{input.shape}, got {target.shape}{user_line_suffix()}")
        _check_weight(op, weight, classes)
        if smoothing:
            target = target * (1.0 - smoothing) + smoothing / classes
        terms = logp * target
        if weight is not None:
            terms = terms * weight.reshape((classes,) + (1,) * (input.ndim - class_axis - 1))
        return reduce(-R.sum(terms, axis=class_axis), reduction)
    ignore_index = arguments.integer(op, "ignore_index", ignore_index)
    logp_last, target = _class_layout(op, logp, target)
    _check_weight(op, weight, classes)
    valid, safe = _valid_targets(op, target, classes, ignore_index)
    nll = _picked_nll(logp_last, valid, safe, weight, reduction)
    if not smoothing:
        return nll
    spread = logp_last if weight is None else logp_last * weight
    smooth = -R.sum(spread, axis=-1) * E.astype(valid, logp.dtype)
    if reduction == "mean":
        if weight is None:
            smooth = R.sum(smooth) / R.sum(E.astype(valid, logp.dtype))
        else:
            smooth = R.sum(smooth) / R.sum(weight[safe] * E.astype(valid, logp.dtype))
    else:
        smooth = reduce(smooth, reduction)
    return (1.0 - smoothing) * nll + smooth * (smoothing / classes)


def _same_shape(op: str, input: Tensor, target: Tensor) -> None:
    arguments.tensor(op, "input", input)
    arguments.tensor(op, "target", target)
    if input.shape != target.shape:
        raise ShapeError(f"{op}: input of shape {input.shape} and target of shape "
                         f"{target.shape} differ{user_line_suffix()}")


def l1_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """Mean absolute error |input - target|.

    >>> import eager
    >>> l1_loss(eager.tensor([1.0, -3.0]), eager.tensor([0.0, 0.0])).item()
    2.0
    """
    _same_shape("l1_loss", input, target)
    return reduce((input - target).abs(), check_reduction("l1_loss", reduction))


def smooth_l1_loss(input: Tensor, target: Tensor, reduction: str = "mean",
                   beta: float = 1.0) -> Tensor:
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (d = input - target).

    >>> import eager
    >>> smooth_l1_loss(eager.tensor([0.5, 3.0]), eager.tensor([0.0, 0.0]), "none").tolist()
    [0.125, 2.5]
    """
    _same_shape("smooth_l1_loss", input, target)
    reduction = check_reduction("smooth_l1_loss", reduction)
    beta = arguments.real("smooth_l1_loss", "beta", beta, low=0.0)
    d = (input - target).abs()
    if beta == 0.0:
        return reduce(d, reduction)
    return reduce(E.where(d < beta, 0.5 * d * d / beta, d - 0.5 * beta), reduction)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean",
               delta: float = 1.0) -> Tensor:
    """0.5 d^2 where |d| <= delta, else delta (|d| - 0.5 delta).

    >>> import eager
    >>> huber_loss(eager.tensor([0.5, 3.0]), eager.tensor([0.0, 0.0]), "none", 2.0).tolist()
    [0.125, 4.0]
    """
    _same_shape("huber_loss", input, target)
    reduction = check_reduction("huber_loss", reduction)
    delta = arguments.real("huber_loss", "delta", delta, low=0.0, low_open=True)
    d = (input - target).abs()
    return reduce(E.where(d <= delta, 0.5 * d * d, delta * (d - 0.5 * delta)), reduction)


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                         reduction: str = "mean") -> Tensor:
    """-(t log p + (1 - t) log(1 - p)) for probabilities p = input; each log is clamped
    at -100 as in PyTorch, so p of exactly 0 or 1 gives a finite loss, and the gradient
    is PyTorch's (finite there too). It is a first derivative only: gradients of this
    gradient are not formed. input or target outside [0, 1] (or nan) raises ArgumentError,
    as PyTorch refuses them; under @jit that check is a guard.

    >>> import eager
    >>> round(binary_cross_entropy(eager.tensor([0.5]), eager.tensor([1.0])).item(), 4)
    0.6931
    """
    _same_shape("binary_cross_entropy", input, target)
    reduction = check_reduction("binary_cross_entropy", reduction)
    arguments.optional_tensor("binary_cross_entropy", "weight", weight)
    (input, target) = promote("f", input, target)
    with no_grad():
        _raise_if_not_probabilities("binary_cross_entropy", "input", input)
        _raise_if_not_probabilities("binary_cross_entropy", "target", target)
        log_p = E.maximum(E.log(input), -100.0)
        log_q = E.maximum(E.log(1.0 - input), -100.0)
        value = -(target * log_p + (1.0 - target) * log_q)
        # PyTorch's gradient, (p - t) / max(p (1 - p), 1e-12): finite at p = 0 or 1, where
        # differentiating the clamped logs would give 0 * inf = nan.
        slope = (input - target) / E.maximum(input * (1.0 - input), 1e-12)
        target_slope = log_q - log_p
    loss = value
    if input.requires_grad:
        loss = loss + (input - input.detach()) * slope
    if target.requires_grad:
        loss = loss + (target - target.detach()) * target_slope
    if weight is not None:
        loss = loss * weight
    return reduce(loss, reduction)


def _raise_if_not_probabilities(op: str, name: str, values: Tensor) -> None:
    # A host read (a guard when traced), as for class targets: outside [0, 1] the logs
    # are nan or the loss is unbounded below, where PyTorch refuses.
    outside = ~((values >= 0.0) & (values <= 1.0))  # nan is outside too
    if values.size and bool(outside.any()):
        low, high = R.min(values).item(), R.max(values).item()
        hint = "; pass probabilities (sigmoid(x)), or raw scores to " \
            "binary_cross_entropy_with_logits" if name == "input" else ""
        raise ArgumentError(f"{op}: all elements of {name} should be between 0 and 1, got "
                            f"values in [{low:g}, {high:g}]{user_line_suffix()}{hint}")


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor,
                                     weight: Tensor | None = None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """binary_cross_entropy(sigmoid(input), target) computed stably from the logits;
    pos_weight (one per class, broadcast over the last dim) scales the positive term.

    >>> import eager
    >>> round(binary_cross_entropy_with_logits(eager.tensor([0.0]), eager.tensor([1.0])).item(), 4)
    0.6931
    """
    op = "binary_cross_entropy_with_logits"
    _same_shape(op, input, target)
    reduction = check_reduction(op, reduction)
    arguments.optional_tensor(op, "weight", weight)
    arguments.optional_tensor(op, "pos_weight", pos_weight)
    (input, target) = promote("f", input, target)
    log_sig, log_one_minus = logsigmoid(input), logsigmoid(-input)
    positive = target * log_sig
    if pos_weight is not None:
        positive = positive * pos_weight
    loss = -(positive + (1.0 - target) * log_one_minus)
    if weight is not None:
        loss = loss * weight
    return reduce(loss, reduction)

"""`Optimizer`: the base class of SGD, Adam and AdamW.

Updates are in-place eager ops under `no_grad` (`p -= lr * g`), so the tracer records them
as write-backs, and everything that changes from step to step (step counts, moment
estimates, the learning rate) lives in tensors allocated when the optimizer is built. A
traced or jitted `step()` therefore replays correctly: no Python number is baked in.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from eager import arguments
from eager.autograd import enable_grad, no_grad
from eager.creation import full
from eager.dispatch import user_line_suffix
from eager.interpreters import listener
from eager.nn.errors import ArgumentError
from eager.nn.parameter import clear_grad
from eager.optim.param_group import ParamGroup
from eager.tensor import Tensor
from kernels.dtypes import int64, is_floating
from kernels.errors import DTypeError, EagerError, ShapeError


def params_device(params: list) -> str | None:
    """The device of the first tensor among params (a list of tensors or of groups)."""
    first = params[0]
    if isinstance(first, dict):
        inner = first.get("params")
        # add_param_group reports a group's params that are not a list of tensors
        first = inner if isinstance(inner, Tensor) else \
            next(iter(inner), None) if isinstance(inner, (list, tuple)) else None
    return first.device if isinstance(first, Tensor) else None


class OptimizerStateError(EagerError, ValueError):
    """`Optimizer.load_state_dict` got a state dict for different parameters."""


class Optimizer:
    """Holds parameter groups and per-parameter state; subclasses define `init_state` and
    `update`. `state_dict()` / `load_state_dict()` round-trip through `eager.save`.

    `param_groups` is a list of `ParamGroup` dicts: assigning `group["lr"] = x` (as PyTorch
    code does every iteration) updates the rate a jitted step reads."""

    def __init__(self, params: Iterable, defaults: dict[str, Any]) -> None:
        if isinstance(params, (Tensor, dict)) or not isinstance(params, Iterable):
            raise ArgumentError(f"{type(self).__name__}: params must be an iterable of Tensors "
                                f"or of dicts (parameter groups), got {type(params).__name__}; "
                                "pass model.parameters() or [tensor]")
        one_pass = iter(params) is params  # a generator, such as model.parameters()
        try:
            params = list(params)
        except TypeError:  # a 0-d numpy array says it is iterable but is not
            raise ArgumentError(f"{type(self).__name__}: params must be an iterable of "
                                f"Tensors, got {type(params).__name__}") from None
        if not params:
            hint = "; a generator such as model.parameters() is used up after one pass: call " \
                "model.parameters() again for each optimizer" if one_pass else ""
            raise ArgumentError(f"{type(self).__name__}: got an empty parameter list"
                                f"{user_line_suffix()}{hint}")
        self.defaults = dict(defaults)
        # Advanced whenever a Python-valued hyperparameter is assigned; step() reads it,
        # which a trace records as a guard, so a jitted step retraces on such a change.
        self._hyperparameter_version = full((), 0, dtype=int64, device=params_device(params))
        self.param_groups: list[dict[str, Any]] = []
        self.state: dict[Tensor, dict[str, Tensor]] = {}
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group: dict[str, Any]) -> None:
        """Add parameters with their own hyperparameters (unset ones take the defaults).

        >>> import eager
        >>> from eager import optim
        >>> a = eager.zeros(2, requires_grad=True); b = eager.zeros(2, requires_grad=True)
        >>> opt = optim.SGD([a], lr=0.1)
        >>> opt.add_param_group({"params": [b], "lr": 0.01})
        >>> [round(g["lr"].item(), 6) for g in opt.param_groups]
        [0.1, 0.01]
        """
        name = type(self).__name__
        where = f"{name}: parameter group {len(self.param_groups)}"
        if not isinstance(group, dict) or "params" not in group:
            raise ArgumentError(f"{where} must be a dict with a 'params' entry, got "
                                f"{group!r:.80}")
        params = group["params"]
        if isinstance(params, (set, frozenset)):
            raise ArgumentError(f"{where}: params is a set, whose order changes between runs "
                                f"(and so would the saved state's); use a list")
        if not isinstance(params, (Tensor, Iterable)):
            raise ArgumentError(f"{where}: 'params' must be a Tensor or an iterable of "
                                f"Tensors, got {type(params).__name__} {params!r:.40}")
        params = [params] if isinstance(params, Tensor) else list(params)
        for i, p in enumerate(params):
            self._check_param(where, i, p)
        if len({id(p) for p in params}) != len(params):
            raise ArgumentError(f"{where}: a parameter appears twice in the group; it would "
                                "be updated twice per step")
        group = {**self.defaults, **{k: v for k, v in group.items() if k != "params"}}
        lr_value = arguments.real(name, "lr", group["lr"])
        if lr_value < 0:
            raise ArgumentError(f"{name}: learning rate must be non-negative, got {lr_value}")
        like = params[0] if params else self._hyperparameter_version
        group["lr"] = full((), lr_value, dtype=params[0].dtype if params else None,
                           device=like.device)
        group["params"] = params
        group = ParamGroup(group, self._hyperparameters_changed, name)
        self.param_groups.append(group)
        for p in params:
            self.state[p] = self.init_state(p, group)

    def _check_param(self, where: str, i: int, p: Any) -> None:
        if not isinstance(p, Tensor):
            raise ArgumentError(f"{where}: parameter {i} is a {type(p).__name__}, not a Tensor")
        if not is_floating(p.dtype):
            raise DTypeError(f"{where}: parameter {i} has dtype {p.dtype.name}; only "
                             "floating tensors can be optimized")
        if not p.is_leaf:
            raise ArgumentError(f"{where}: parameter {i} of shape {p.shape} is not a leaf "
                                "tensor; optimize the tensors you created, not results")
        if p in self.state:
            other = next((f"group {g}" for g, group in enumerate(self.param_groups)
                          if any(q is p for q in group["params"])), "another group")
            raise ArgumentError(f"{where}: parameter {i} of shape {p.shape} appears in more "
                                f"than one group: {other} holds it already")

    def set_lr(self, lr: float) -> None:
        """Set every group's learning rate in place (a jitted step sees the new value).

        >>> import eager
        >>> from eager import optim
        >>> opt = optim.SGD([eager.zeros(1, requires_grad=True)], lr=0.1)
        >>> opt.set_lr(0.05); round(opt.param_groups[0]["lr"].item(), 6)
        0.05
        """
        lr = arguments.real(f"{type(self).__name__}.set_lr", "lr", lr, low=0.0)
        with no_grad():
            for group in self.param_groups:
                group["lr"].fill_(lr)

    def _hyperparameters_changed(self) -> None:
        with no_grad():
            self._hyperparameter_version += 1

    def init_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Tensor]:
        """The state tensors of one parameter (allocated once, updated in place)."""
        return {}

    def update(self, p: Tensor, grad: Tensor, state: dict[str, Tensor],
               group: dict[str, Any]) -> None:
        """Apply one step to p in place; subclasses define it."""
        raise NotImplementedError

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient. `closure` (as in PyTorch) is called
        first with gradients enabled, and its result (the loss) is returned."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        if listener() is not None:  # traced: a guard on the version (see ParamGroup)
            int(self._hyperparameter_version.item())
        with no_grad():
            for group in self.param_groups:
                self.update_group(group)
        return loss

    def update_group(self, group: dict[str, Any]) -> None:
        """Update every parameter of `group` that has a gradient (one `update` each;
        Adam overrides it to update them all at once)."""
        for p in group["params"]:
            grad = p.grad
            if grad is not None:
                self.update(p, grad, self.state[p], group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear gradients: set them to None (default), or fill them with zeros in place."""
        for group in self.param_groups:
            for p in group["params"]:
                clear_grad(p, set_to_none)

    # ---- checkpoints ------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """A snapshot: per-parameter state (copied) by position, and each group's
        hyperparameters with "params" as positions. Save it with `eager.save`."""
        index = {}
        groups = []
        for group in self.param_groups:
            positions = []
            for p in group["params"]:
                index[p] = len(index)
                positions.append(index[p])
            saved = {k: (v.clone() if isinstance(v, Tensor) else v)
                     for k, v in group.items() if k != "params"}
            groups.append({**saved, "params": positions})
        state = {index[p]: {k: t.clone() for k, t in s.items()} for p, s in self.state.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Copy a `state_dict()` into this optimizer's existing tensors, in place.

        The optimizer must have been built over parameters of the same shapes in the same
        order. Everything is checked before anything is written.
        """
        name = type(self).__name__
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= set(state_dict):
            raise OptimizerStateError(f"{name}.load_state_dict: expected a dict with "
                                      f"'state' and 'param_groups'{user_line_suffix()}")
        saved_groups, saved_state = state_dict["param_groups"], state_dict["state"]
        if not isinstance(saved_state, dict) or not isinstance(saved_groups, (list, tuple)) or \
                not all(isinstance(g, dict) and "params" in g for g in saved_groups):
            raise OptimizerStateError(f"{name}.load_state_dict: 'state' must be a dict and "
                                      f"'param_groups' a list of dicts with 'params' (as "
                                      f"state_dict() makes them){user_line_suffix()}")
        if len(saved_groups) != len(self.param_groups) or any(
                len(s["params"]) != len(g["params"])
                for s, g in zip(saved_groups, self.param_groups)):
            raise OptimizerStateError(
                f"{name}.load_state_dict: the saved groups hold "
                f"{[len(s['params']) for s in saved_groups]} parameters but this optimizer's "
                f"hold {[len(g['params']) for g in self.param_groups]}{user_line_suffix()}")
        pairs = []
        for saved, group in zip(saved_groups, self.param_groups):
            for position, p in zip(saved["params"], group["params"]):
                own = self.state[p]
                theirs = saved_state.get(position, saved_state.get(str(position)))
                if theirs is None or set(theirs) != set(own):
                    raise OptimizerStateError(
                        f"{name}.load_state_dict: state of parameter {position} has keys "
                        f"{sorted(theirs or {})}, expected {sorted(own)}{user_line_suffix()}")
                for key, target in own.items():
                    if tuple(theirs[key].shape) != target.shape:
                        raise ShapeError(
                            f"{name}.load_state_dict: state {key!r} of parameter {position} "
                            f"has shape {tuple(theirs[key].shape)} but the parameter's is "
                            f"{target.shape}{user_line_suffix()}")
                    pairs.append((target, theirs[key]))
        with no_grad():
            for target, value in pairs:
                target.copy_(value)
            for saved, group in zip(saved_groups, self.param_groups):
                for key, value in saved.items():
                    if key == "params":
                        continue
                    if isinstance(group.get(key), Tensor):
                        group[key].copy_(value)
                    else:
                        group[key] = value

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(k for k in group if k != "params"):
                value = group[key]
                shown = value.item() if isinstance(value, Tensor) else value
                lines.append(f"    {key}: {shown}")
        return "\n".join(lines + [")"])

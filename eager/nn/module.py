"""`Module`: the base class of layers and models.

Assigning a Parameter or a Module to an attribute registers it, so `parameters()`,
`state_dict()`, `train()`/`eval()` and `zero_grad()` find it without further bookkeeping.

>>> import eager
>>> from eager import nn
>>> class Neuron(nn.Module):
...     def __init__(self):
...         super().__init__()
...         self.w = nn.Parameter(eager.tensor([0.5]))
...         self.b = nn.Parameter(eager.tensor([0.0]))
...     def forward(self, x):
...         return (self.w * x + self.b).tanh()
>>> [name for name, _ in Neuron().named_parameters()]
['w', 'b']
"""
from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple, Self

from eager import arguments
from eager.autograd import no_grad
from eager.creation import full
from eager.dispatch import user_line_suffix
from eager.interpreters import listener
from eager.nn.errors import ArgumentError, MissingForwardError, ModuleError, StateDictError
from eager.nn.parameter import Parameter, clear_grad
from eager.tensor import Tensor
from kernels.dtypes import is_floating
from kernels.errors import EagerError, ShapeError


class LoadResult(NamedTuple):
    """What `load_state_dict(strict=False)` could not match."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class Module:
    """Base class: subclass it, assign layers and Parameters in `__init__`, and write
    `forward`. Calling the module calls `forward`."""

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_persistent", set())
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "_forward_hooks", {})
        object.__setattr__(self, "_forward_pre_hooks", {})
        # The mode twice: a Python bool for eager code, and a 0-d cpu tensor that a trace
        # reads (a guard) whenever code reads `.training`, so a jitted function that
        # closes over a model retraces after train()/eval() instead of replaying the
        # other mode (see the `training` property).
        object.__setattr__(self, "_training", True)
        object.__setattr__(self, "_training_flag", full((), True, device="cpu"))

    # ---- registration -----------------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            raise ModuleError(f"{type(self).__name__}: call super().__init__() before "
                              f"assigning attribute {name!r}")
        if name in self._buffers and not isinstance(value, (Module, Parameter)):
            if value is not None and not isinstance(value, Tensor):
                raise ModuleError(f"{type(self).__name__}.{name} is a buffer; assign a Tensor "
                                  f"or None, got {type(value).__name__}")
            self._buffers[name] = value
            return
        if value is not None and not isinstance(value, (Parameter, Module)):
            if name in self._parameters:
                raise ModuleError(f"{type(self).__name__}.{name} is a parameter; assign "
                                  f"nn.Parameter(tensor) or None, not a {type(value).__name__} "
                                  f"(to change its values, use .copy_() under eager.no_grad())")
            if name in self._modules:
                raise ModuleError(f"{type(self).__name__}.{name} is a submodule; assign a Module "
                                  f"or None, not a {type(value).__name__}")
        target = self._parameters if isinstance(value, Parameter) else \
            self._modules if isinstance(value, Module) else None
        # Replacing a registered layer keeps its place (children(), state_dict order), as
        # in PyTorch: `resnet.conv1 = nn.Conv2d(...)` stays first in the Sequential built
        # from children().
        for table in (self._parameters, self._buffers, self._modules):
            if table is not target:
                table.pop(name, None)
        if target is None:
            object.__setattr__(self, name, value)
        else:
            self.__dict__.pop(name, None)
            target[name] = value

    def __getattr__(self, name: str) -> Any:
        # Only called when normal lookup fails: registered parameters, buffers, modules.
        d = self.__dict__
        for table in ("_parameters", "_buffers", "_modules"):
            if table in d and name in d[table]:
                return d[table][name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __delattr__(self, name: str) -> None:
        for table in (self._parameters, self._buffers, self._modules):
            if name in table:
                del table[name]
                return
        object.__delattr__(self, name)

    def register_parameter(self, name: str, param: Tensor | None) -> None:
        """Register `param` (made a Parameter if it is a plain Tensor) under `name`.

        >>> import eager
        >>> from eager import nn
        >>> m = nn.Module(); m.register_parameter("scale", eager.ones(3))
        >>> [n for n, _ in m.named_parameters()]
        ['scale']
        """
        _check_name("register_parameter", name)
        if param is not None and not isinstance(param, Parameter):
            param = Parameter(param)
        if param is None:
            self._parameters.pop(name, None)
            object.__setattr__(self, name, None)
            return
        setattr(self, name, param)

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Register a tensor that is state but not trained (running statistics, masks).

        Persistent buffers are part of `state_dict()`.

        >>> import eager
        >>> from eager import nn
        >>> m = nn.Module(); m.register_buffer("running_mean", eager.zeros(4))
        >>> list(m.state_dict()), list(m.parameters())
        (['running_mean'], [])
        """
        _check_name("register_buffer", name)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise ModuleError(f"register_buffer: {name!r} must be a Tensor or None, got "
                              f"{type(tensor).__name__}")
        taken = "parameter" if name in self._parameters else "submodule" \
            if name in self._modules else "attribute" if name in self.__dict__ else None
        if taken is not None:  # PyTorch refuses too: the buffer would silently replace it
            raise ModuleError(f"register_buffer: {type(self).__name__} already has a {taken} "
                              f"named {name!r}; `del module.{name}` first or pick another name")
        for table in (self._parameters, self._modules):
            table.pop(name, None)
        self.__dict__.pop(name, None)
        self._buffers[name] = tensor
        if persistent:
            self._persistent.add(name)
        else:
            self._persistent.discard(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Register a submodule under `name` (a string; used by containers)."""
        _check_name("add_module", name)
        if module is not None and not isinstance(module, Module):
            raise ModuleError(f"add_module: {name!r} must be a Module, got "
                              f"{type(module).__name__}")
        self._modules[name] = module

    def register_module(self, name: str, module: Module | None) -> None:
        """PyTorch's alias of `add_module`.

        >>> from eager import nn
        >>> m = nn.Module(); m.register_module("head", nn.Linear(2, 1))
        >>> [n for n, _ in m.named_children()]
        ['head']
        """
        self.add_module(name, module)

    # ---- traversal ----------------------------------------------------------------------
    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """(dotted name, module) for this module and every submodule, each once."""
        seen: set[int] = set()
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            children = [(f"{name}.{n}" if name else n, m)
                        for n, m in module._modules.items() if m is not None]
            stack.extend(reversed(children))

    def modules(self) -> Iterator[Module]:
        """This module and every submodule, each once."""
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """(name, module) for the direct submodules."""
        for name, module in self._modules.items():
            if module is not None:
                yield name, module

    def children(self) -> Iterator[Module]:
        """The direct submodules."""
        for _, module in self.named_children():
            yield module

    def named_parameters(self, prefix: str = "", recurse: bool = True
                         ) -> Iterator[tuple[str, Tensor]]:
        """(dotted name, parameter) pairs; a parameter shared by two modules appears once.

        >>> from eager import nn
        >>> [n for n, _ in nn.Sequential(nn.Linear(2, 3), nn.ReLU()).named_parameters()]
        ['0.weight', '0.bias']
        """
        seen: set[int] = set()
        modules = self.named_modules(prefix) if recurse else [(prefix, self)]
        for mod_name, module in modules:
            for name, param in module._parameters.items():
                if id(param) not in seen:
                    seen.add(id(param))
                    yield (f"{mod_name}.{name}" if mod_name else name), param

    def parameters(self, recurse: bool = True) -> Iterator[Tensor]:
        """Every parameter (what an optimizer trains).

        >>> from eager import nn
        >>> sum(p.numel() for p in nn.Linear(64, 10).parameters())
        650
        """
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix: str = "") -> Iterator[tuple[str, Tensor]]:
        """(dotted name, buffer) pairs of this module and its submodules."""
        for mod_name, module in self.named_modules(prefix):
            for name, buf in module._buffers.items():
                if buf is not None:
                    yield (f"{mod_name}.{name}" if mod_name else name), buf

    # ---- modes and gradients ----------------------------------------------------------
    @property
    def training(self) -> bool:
        """Whether the module is in training mode (Dropout drops, BatchNorm uses batch
        statistics). Read while tracing, it is a guard, so a replay never uses the
        other mode.

        >>> from eager import nn
        >>> nn.Dropout().training, nn.Dropout().eval().training
        (True, False)
        """
        if listener() is not None:
            bool(self.__dict__["_training_flag"])
        return self.__dict__["_training"]

    @training.setter
    def training(self, mode: bool) -> None:
        mode = bool(mode)
        self.__dict__["_training"] = mode
        flag = self.__dict__["_training_flag"]
        if listener() is not None or bool(flag) != mode:  # no host read while traced
            with no_grad():
                flag.fill_(mode)

    def train(self, mode: bool = True) -> Module:
        """Set training mode (Dropout drops) on this module and its submodules.

        >>> from eager import nn
        >>> model = nn.Sequential(nn.Dropout(0.5)).eval()
        >>> model[0].training, model.train()[0].training
        (False, True)
        """
        mode = arguments.boolean(f"{type(self).__name__}.train", "mode", mode)
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self) -> Module:
        """Set evaluation mode: `train(False)`."""
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear the gradients of all parameters (to None, or to zeros in place).

        >>> import eager
        >>> from eager import nn
        >>> layer = nn.Linear(2, 1)
        >>> layer(eager.ones(1, 2)).sum().backward(); layer.zero_grad()
        >>> layer.weight.grad is None
        True
        """
        for param in self.parameters():
            clear_grad(param, set_to_none)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Turn gradient recording for every parameter on or off (freezing layers)."""
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def share_memory(self) -> Module:
        """Move every parameter, buffer and existing gradient into memory shared between
        processes (`Tensor.share_memory_()`), so processes given this module by
        `eager.multiprocessing` train the same values (Hogwild). Gradients made later
        stay private to each process."""
        for module in self.modules():
            for t in (*module._parameters.values(), *module._buffers.values()):
                if t is not None:
                    t.share_memory_()
                    if t._grad is not None:
                        t._grad.share_memory_()
        return self

    def to(self, device: str | None = None, dtype=None) -> Module:
        """Move/convert every parameter and buffer. Parameters are replaced by new ones,
        so build the optimizer after moving the model."""
        if device is not None and not isinstance(device, str):
            device, dtype = None, device
        for module in self.modules():
            for name, param in list(module._parameters.items()):
                moved = _convert(param, device, dtype)
                if moved is not param:
                    module._parameters[name] = Parameter(moved, param.requires_grad)
            for name, buf in list(module._buffers.items()):
                if buf is not None:
                    module._buffers[name] = _convert(buf, device, dtype)
        return self

    def float(self) -> Module:
        """Convert floating parameters and buffers to float32."""
        from kernels import float32

        return self.to(dtype=float32)

    def double(self) -> Module:
        """Convert floating parameters and buffers to float64."""
        from kernels import float64

        return self.to(dtype=float64)

    # ---- state ------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Tensor]:
        """Parameters and persistent buffers by dotted name, as detached tensors that
        share memory with the module's own (save them with `eager.save`).

        >>> from eager import nn
        >>> {k: v.shape for k, v in nn.Linear(3, 2).state_dict().items()}
        {'weight': (2, 3), 'bias': (2,)}
        """
        out: dict[str, Tensor] = {}
        for mod_name, module in self.named_modules():
            dot = f"{mod_name}." if mod_name else ""
            for name, param in module._parameters.items():
                out[dot + name] = param.detach()
            for name, buf in module._buffers.items():
                if buf is not None and name in module._persistent:
                    out[dot + name] = buf.detach()
        return out

    def load_state_dict(self, state_dict: Mapping[str, Tensor], strict: bool = True
                        ) -> LoadResult:
        """Copy values from `state_dict` into this module's parameters and buffers in place
        (so optimizers and jitted functions keep seeing the same tensors).

        strict=True raises StateDictError on missing or unexpected keys; a shape mismatch
        always raises ShapeError. Nothing is copied unless every check passes.

        >>> from eager import nn
        >>> a, b = nn.Linear(3, 2), nn.Linear(3, 2)
        >>> b.load_state_dict(a.state_dict())
        LoadResult(missing_keys=[], unexpected_keys=[])
        >>> bool((a.weight == b.weight).all())
        True
        """
        if not isinstance(state_dict, Mapping):
            raise ArgumentError(f"load_state_dict: expected a dict of name -> Tensor, got "
                                f"{type(state_dict).__name__}")
        own = self.state_dict()
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        if strict and (missing or unexpected):
            parts = []
            if missing:
                parts.append(f"missing keys {missing}")
            if unexpected:
                parts.append(f"unexpected keys {unexpected}")
            raise StateDictError(
                f"load_state_dict: {type(self).__name__} got {' and '.join(parts)}"
                f"{user_line_suffix()}; pass strict=False to load the keys that match")
        mismatched = []
        for key, target in own.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            if not isinstance(value, Tensor):
                raise ModuleError(f"load_state_dict: value for {key!r} must be a Tensor, got "
                                  f"{type(value).__name__}")
            if value.shape != target.shape:
                mismatched.append(f"{key!r} has shape {value.shape} in the state dict but "
                                  f"{target.shape} in the model")
        if mismatched:  # every one listed, as PyTorch does, so one fix covers them all
            raise ShapeError(f"load_state_dict: {type(self).__name__}: {'; '.join(mismatched)}"
                             f"{user_line_suffix()}")
        with no_grad():
            for key, target in own.items():
                if key in state_dict:
                    target.copy_(state_dict[key])
        return LoadResult(missing, unexpected)

    # ---- calling and printing ---------------------------------------------------------
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The computation; subclasses override it."""
        raise MissingForwardError(f"{type(self).__name__} has no forward(); define one in "
                                  f"the class (`def forward(self, x): ...`), spelled forward")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        pre_hooks = self.__dict__.get("_forward_pre_hooks")
        hooks = self.__dict__.get("_forward_hooks")
        if not pre_hooks and not hooks:
            try:
                return self.forward(*args, **kwargs)
            except TypeError as exc:
                raise _named_call_error(self, args, kwargs, exc) from None
        for hook in list(pre_hooks.values()):
            changed = hook(self, args)
            if changed is not None:
                args = changed if isinstance(changed, tuple) else (changed,)
        try:
            out = self.forward(*args, **kwargs)
        except TypeError as exc:
            raise _named_call_error(self, args, kwargs, exc) from None
        for hook in list(hooks.values()):
            changed = hook(self, args, out)
            if changed is not None:
                out = changed
        return out

    def register_forward_pre_hook(self, hook: Callable) -> RemovableHandle:
        """Call `hook(module, args)` before each forward; a non-None result replaces the
        positional arguments. Returns a handle whose `remove()` unregisters it.

        >>> import eager
        >>> from eager import nn
        >>> m = nn.Identity()
        >>> handle = m.register_forward_pre_hook(lambda mod, args: (args[0] * 2,))
        >>> m(eager.tensor([1.0])).tolist()
        [2.0]
        >>> handle.remove(); m(eager.tensor([1.0])).tolist()
        [1.0]
        """
        return RemovableHandle.add(self._forward_pre_hooks, _callable(hook))

    def register_forward_hook(self, hook: Callable) -> RemovableHandle:
        """Call `hook(module, args, output)` after each forward; a non-None result
        replaces the output. Returns a handle whose `remove()` unregisters it.

        >>> import eager
        >>> from eager import nn
        >>> seen = []
        >>> layer = nn.Linear(3, 2)
        >>> _ = layer.register_forward_hook(lambda mod, args, out: seen.append(out.shape))
        >>> _ = layer(eager.ones(4, 3)); seen
        [(4, 2)]
        """
        return RemovableHandle.add(self._forward_hooks, _callable(hook))

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call fn on every submodule (children first) and then on this module, as
        PyTorch does (a custom weight initialisation: `model.apply(init_weights)`).

        >>> from eager import nn
        >>> names = []
        >>> _ = nn.Sequential(nn.Linear(2, 2), nn.ReLU()).apply(
        ...     lambda m: names.append(type(m).__name__))
        >>> names
        ['Linear', 'ReLU', 'Sequential']
        """
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def get_submodule(self, target: str) -> Module:
        """The submodule at dotted path `target` ("" is this module).

        >>> from eager import nn
        >>> type(nn.Sequential(nn.Linear(2, 2)).get_submodule("0")).__name__
        'Linear'
        """
        module = self
        for part in target.split(".") if target else ():
            child = module._modules.get(part)
            if child is None:
                raise ModuleError(f"get_submodule: {type(module).__name__} has no submodule "
                                  f"{part!r} (in {target!r})")
            module = child
        return module

    def __deepcopy__(self, memo: dict) -> Module:
        # Tensors do not pickle, so copy.deepcopy (used for EMA models, and by
        # TransformerEncoder to repeat a layer) copies parameters and buffers here.
        copied = type(self).__new__(type(self))
        memo[id(self)] = copied
        for key, value in self.__dict__.items():
            if key in ("_parameters", "_buffers", "_modules"):
                continue
            value = value.detach().clone() if isinstance(value, Tensor) else \
                copy.deepcopy(value, memo)
            object.__setattr__(copied, key, value)
        object.__setattr__(copied, "_parameters", {
            name: None if p is None else memo.setdefault(
                id(p), Parameter(p.detach().clone(), p.requires_grad))
            for name, p in self._parameters.items()})
        object.__setattr__(copied, "_buffers", {
            name: None if b is None else memo.setdefault(id(b), b.detach().clone())
            for name, b in self._buffers.items()})
        object.__setattr__(copied, "_modules", {
            name: None if m is None else copy.deepcopy(m, memo)
            for name, m in self._modules.items()})
        return copied

    def extra_repr(self) -> str:
        """The text inside the parentheses of this module's repr (its settings)."""
        return ""

    def __repr__(self) -> str:
        lines = []
        for name, module in self._modules.items():
            child = repr(module).replace("\n", "\n  ")
            lines.append(f"  ({name}): {child}")
        extra = self.extra_repr()
        if not lines:
            return f"{type(self).__name__}({extra})"
        head = f"{type(self).__name__}(" + (f"{extra}" if extra else "")
        return head + "\n" + "\n".join(lines) + "\n)"

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._modules)
                      | set(self._buffers))


class RemovableHandle:
    """What `register_forward_hook` returns: `remove()` unregisters the hook."""

    _next_id = 0

    def __init__(self, table: dict, key: int) -> None:
        self._table, self._key = table, key

    @classmethod
    def add(cls, table: dict, hook: Callable) -> RemovableHandle:
        """Store hook in table under a fresh key and return its handle."""
        cls._next_id += 1
        table[cls._next_id] = hook
        return cls(table, cls._next_id)

    def remove(self) -> None:
        """Unregister the hook (a second call does nothing)."""
        self._table.pop(self._key, None)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


def _callable(hook: Any) -> Callable:
    if not callable(hook):
        raise ArgumentError(f"register_forward_hook: hook must be callable, got "
                            f"{type(hook).__name__}")
    return hook


def _named_call_error(module: Module, args: tuple, kwargs: dict, exc: TypeError
                      ) -> Exception:
    """`model(x, y)` where forward takes (x): Python's bare "forward() takes 2 positional
    arguments but 3 were given" becomes a ModuleError naming the module and what forward
    takes. Any other TypeError (one raised inside forward) comes back unchanged: if the
    arguments bind to forward's signature, the call itself was fine."""
    import inspect

    if isinstance(exc, EagerError):
        return exc
    try:
        signature = inspect.signature(module.forward)
        signature.bind(*args, **kwargs)
    except TypeError as wrong:
        takes = ", ".join(("*" if p.kind is p.VAR_POSITIONAL else
                           "**" if p.kind is p.VAR_KEYWORD else "") + p.name
                          for p in signature.parameters.values())
        given = ", ".join([type(a).__name__ for a in args] + [f"{k}=" for k in kwargs])
        return ModuleError(f"{type(module).__name__}: forward({takes}) was called with "
                           f"({given}): {wrong}")
    except ValueError:  # no signature to compare with
        return exc
    return exc


def _check_name(op: str, name: Any) -> None:
    if not isinstance(name, str) or not name or "." in name:
        raise ArgumentError(f"{op}: name must be a non-empty string without '.', got "
                            f"{name!r}")


def _convert(t: Tensor, device, dtype) -> Tensor:
    from eager.device import check_device
    from kernels import to_dtype

    device = None if device is None else check_device(device, "to")
    dtype = None if dtype is None else to_dtype(dtype)
    out = t.detach()
    if device is not None and device != t.device:
        out = out.to(device)
    if dtype is not None and is_floating(t.dtype) and dtype != t.dtype:
        out = out.astype(dtype)
    return t if out._data is t._data else out

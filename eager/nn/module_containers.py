"""Containers that register what they hold: `ModuleList`, `ModuleDict`, `ParameterList`
and `ParameterDict` (PyTorch's names, indexing and state_dict keys "0", "1", ... / the
dict keys).

>>> import eager
>>> from eager import nn
>>> class Stack(nn.Module):
...     def __init__(self):
...         super().__init__()
...         self.layers = nn.ModuleList([nn.Linear(4, 4) for _ in range(3)])
...     def forward(self, x):
...         for layer in self.layers:
...             x = layer(x).relu()
...         return x
>>> list(Stack().state_dict())[:2]
['layers.0.weight', 'layers.0.bias']
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Self

from eager import arguments
from eager.nn.errors import ArgumentError, ModuleError
from eager.nn.module import Module
from eager.nn.parameter import Parameter
from eager.tensor import Tensor


class ContainerIndexError(ArgumentError, IndexError):
    """An index out of range for a ModuleList / ParameterList (an IndexError too)."""


def _position(op: str, index: Any, length: int) -> int:
    index = arguments.integer(op, "index", index)
    if not -length <= index < length:
        raise ContainerIndexError(f"{op}: index {index} is out of range for {length} items")
    return index % length if length else index


class ModuleList(Module):
    """A list of modules, each registered (so parameters(), state_dict(), train() and
    to() reach them). It has no forward: iterate over it in yours.

    >>> from eager import nn
    >>> layers = nn.ModuleList([nn.Linear(2, 2)]); layers.append(nn.ReLU())
    ModuleList(
      (0): Linear(in_features=2, out_features=2, bias=True)
      (1): ReLU()
    )
    >>> len(layers), type(layers[-1]).__name__
    (2, 'ReLU')
    """

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def _items(self) -> list[Module]:
        return list(self._modules.values())

    def __getitem__(self, index: int | slice):
        if isinstance(index, slice):
            return ModuleList(self._items()[index])
        return self._items()[_position("ModuleList", index, len(self))]

    def __setitem__(self, index: int, module: Module) -> None:
        self.add_module(str(_position("ModuleList", index, len(self))), module)

    def __delitem__(self, index: int | slice) -> None:
        items = self._items()
        if isinstance(index, slice):
            del items[index]
        else:
            del items[_position("ModuleList", index, len(items))]
        self._modules.clear()
        self.extend(items)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._items())

    def __iadd__(self, modules: Iterable[Module]) -> Self:
        return self.extend(modules)

    def append(self, module: Module) -> ModuleList:
        """Add a module at the end."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        """Add each module at the end, in order."""
        if isinstance(modules, Module) and not isinstance(modules, ModuleList):
            raise ModuleError(f"ModuleList.extend: expected an iterable of modules, got a "
                              f"{type(modules).__name__}; use append")
        for module in modules:
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> None:
        """Insert a module before position index."""
        items = self._items()
        items.insert(arguments.integer("ModuleList.insert", "index", index), module)
        self._modules.clear()
        self.extend(items)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise ModuleError("ModuleList has no forward(); iterate over it in your module's "
                          "forward")


class ModuleDict(Module):
    """A dict of name -> module, each registered under its name.

    >>> from eager import nn
    >>> heads = nn.ModuleDict({"cls": nn.Linear(4, 3), "box": nn.Linear(4, 4)})
    >>> list(heads.keys()), "cls" in heads
    (['cls', 'box'], True)
    """

    def __init__(self, modules: Mapping[str, Module] | Iterable | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        if key not in self._modules:
            raise KeyError(f"ModuleDict has no module {key!r}; it has {list(self._modules)}")
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __contains__(self, key: object) -> bool:
        return key in self._modules

    def keys(self):
        """The names, in insertion order."""
        return self._modules.keys()

    def values(self):
        """The modules, in insertion order."""
        return self._modules.values()

    def items(self):
        """(name, module) pairs, in insertion order."""
        return self._modules.items()

    def update(self, modules: Mapping[str, Module] | Iterable) -> None:
        """Add or replace modules from a mapping or from (name, module) pairs."""
        pairs = modules.items() if isinstance(modules, (Mapping, ModuleDict)) else modules
        for key, module in pairs:
            self[key] = module

    def pop(self, key: str) -> Module:
        """Remove and return the module under key."""
        module = self[key]
        del self._modules[key]
        return module

    def clear(self) -> None:
        """Remove every module."""
        self._modules.clear()

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise ModuleError("ModuleDict has no forward(); index it in your module's forward")


def _as_parameter(op: str, value: Any) -> Tensor:
    if isinstance(value, Parameter):
        return value
    if not isinstance(value, Tensor):
        raise ModuleError(f"{op}: expected a Parameter or Tensor, got {type(value).__name__}")
    return Parameter(value)


class ParameterList(Module):
    """A list of parameters, registered as "0", "1", ... (plain tensors become Parameters).

    >>> import eager
    >>> from eager import nn
    >>> ps = nn.ParameterList([nn.Parameter(eager.ones(2)) for _ in range(2)])
    >>> [n for n, _ in ps.named_parameters()]
    ['0', '1']
    """

    def __init__(self, values: Iterable[Tensor] | None = None) -> None:
        super().__init__()
        if values is not None:
            self.extend(values)

    def __getitem__(self, index: int | slice):
        items = list(self._parameters.values())
        if isinstance(index, slice):
            return ParameterList(items[index])
        return items[_position("ParameterList", index, len(items))]

    def __setitem__(self, index: int, value: Tensor) -> None:
        key = str(_position("ParameterList", index, len(self)))
        self.register_parameter(key, _as_parameter("ParameterList", value))

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self) -> Iterator[Tensor]:
        return iter(list(self._parameters.values()))

    def append(self, value: Tensor) -> ParameterList:
        """Add a parameter at the end."""
        self.register_parameter(str(len(self)), _as_parameter("ParameterList", value))
        return self

    def extend(self, values: Iterable[Tensor]) -> ParameterList:
        """Add each parameter at the end, in order."""
        for value in values:
            self.append(value)
        return self

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise ModuleError("ParameterList has no forward(); use its parameters in yours")


class ParameterDict(Module):
    """A dict of name -> parameter, each registered under its name.

    >>> import eager
    >>> from eager import nn
    >>> ps = nn.ParameterDict({"scale": nn.Parameter(eager.ones(3))})
    >>> ps["scale"].shape, list(ps.state_dict())
    ((3,), ['scale'])
    """

    def __init__(self, values: Mapping[str, Tensor] | Iterable | None = None) -> None:
        super().__init__()
        if values is not None:
            self.update(values)

    def __getitem__(self, key: str) -> Tensor:
        if key not in self._parameters:
            raise KeyError(f"ParameterDict has no parameter {key!r}; it has "
                           f"{list(self._parameters)}")
        return self._parameters[key]

    def __setitem__(self, key: str, value: Tensor) -> None:
        self.register_parameter(key, _as_parameter("ParameterDict", value))

    def __delitem__(self, key: str) -> None:
        del self._parameters[key]

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._parameters))

    def __contains__(self, key: object) -> bool:
        return key in self._parameters

    def keys(self):
        """The names, in insertion order."""
        return self._parameters.keys()

    def values(self):
        """The parameters, in insertion order."""
        return self._parameters.values()

    def items(self):
        """(name, parameter) pairs, in insertion order."""
        return self._parameters.items()

    def update(self, values: Mapping[str, Tensor] | Iterable) -> None:
        """Add or replace parameters from a mapping or from (name, tensor) pairs."""
        pairs = values.items() if isinstance(values, (Mapping, ParameterDict)) else values
        for key, value in pairs:
            self[key] = value

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise ModuleError("ParameterDict has no forward(); use its parameters in yours")

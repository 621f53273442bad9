"""Layers without weights (activations, Dropout, MaxPool2d, Flatten) and the Sequential container.

>>> import eager
>>> from eager import nn
>>> model = nn.Sequential(nn.Flatten(), nn.Linear(4, 2), nn.ReLU())
>>> model(eager.ones(3, 2, 2)).shape
(3, 2)
"""
from __future__ import annotations

from collections.abc import Iterator

from eager import arguments
from eager.nn import functional as F
from eager.nn.errors import ArgumentError
from eager.nn.module import Module
from eager.ops.shape import flatten
from eager.tensor import Tensor


class SequentialIndexError(ArgumentError, IndexError):
    """`Sequential[i]` with i out of range (an IndexError too, as for a list)."""


class ReLU(Module):
    """max(x, 0) elementwise (inplace=True overwrites the input, as in PyTorch).

    >>> import eager
    >>> from eager import nn
    >>> x = eager.tensor([-1.0, 2.0])
    >>> nn.ReLU(inplace=True)(x) is x, x.tolist()
    (True, [0.0, 2.0])
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = arguments.boolean("ReLU", "inplace", inplace)

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(x, self.inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class Tanh(Module):
    """tanh(x) elementwise."""

    def forward(self, x: Tensor) -> Tensor:
        return F.tanh(x)


class Sigmoid(Module):
    """1 / (1 + exp(-x)) elementwise."""

    def forward(self, x: Tensor) -> Tensor:
        return F.sigmoid(x)


class Identity(Module):
    """Returns its input (a placeholder layer)."""

    def forward(self, x: Tensor) -> Tensor:
        return x


class Dropout(Module):
    """Zero elements with probability p while training (`model.train()`); identity in
    `model.eval()`.

    >>> import eager
    >>> from eager import nn
    >>> nn.Dropout(0.5).eval()(eager.ones(2)).tolist()
    [1.0, 1.0]
    """

    def __init__(self, p: float = 0.5, inplace: bool = False, generator=None) -> None:
        super().__init__()
        name = type(self).__name__
        self.p = arguments.probability(name, "p", p)
        self.inplace = arguments.boolean(name, "inplace", inplace)
        self.generator = generator

    def forward(self, x: Tensor) -> Tensor:
        return F.dropout(x, self.p, self.training, self.inplace, self.generator)

    def extra_repr(self) -> str:
        return f"p={self.p}" + (", inplace=True" if self.inplace else "")


class Dropout2d(Dropout):
    """Zero whole channels of (N, C, H, W) with probability p while training
    (`F.dropout2d`); identity in `model.eval()`.

    >>> import eager
    >>> from eager import nn
    >>> nn.Dropout2d(0.25).eval()(eager.ones(1, 2, 2, 2)).sum().item()
    8.0
    """

    def forward(self, x: Tensor) -> Tensor:
        return F.dropout2d(x, self.p, self.training, self.inplace, self.generator)


class MaxPool2d(Module):
    """Largest value in each window of (N, C, H, W); stride defaults to kernel_size.

    >>> import eager
    >>> from eager import nn
    >>> nn.MaxPool2d(2)(eager.zeros(1, 3, 8, 8)).shape
    (1, 3, 4, 4)
    """

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1,
                 ceil_mode: bool = False) -> None:
        super().__init__()
        arguments.pair("MaxPool2d", "kernel_size", kernel_size, minimum=1)
        if stride is not None:
            arguments.pair("MaxPool2d", "stride", stride, minimum=1)
        arguments.pair("MaxPool2d", "padding", padding, minimum=0)
        arguments.pair("MaxPool2d", "dilation", dilation, minimum=1)
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.dilation, self.ceil_mode = dilation, bool(ceil_mode)

    def forward(self, x: Tensor) -> Tensor:
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation,
                            self.ceil_mode)

    def extra_repr(self) -> str:
        extra = "" if self.dilation == 1 else f", dilation={self.dilation}"
        extra += ", ceil_mode=True" if self.ceil_mode else ""
        return (f"kernel_size={self.kernel_size}, stride={self.stride or self.kernel_size}, "
                f"padding={self.padding}{extra}")


class Flatten(Module):
    """Merge dims start_dim..end_dim (default: all but the batch dim)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = arguments.integer("Flatten", "start_dim", start_dim)
        self.end_dim = arguments.integer("Flatten", "end_dim", end_dim)

    def forward(self, x: Tensor) -> Tensor:
        return flatten(x, self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Sequential(Module):
    """Modules applied in order; indexable, iterable, and named "0", "1", ...

    >>> from eager import nn
    >>> model = nn.Sequential(nn.Linear(2, 3), nn.Tanh())
    >>> len(model), type(model[0]).__name__
    (2, 'Linear')
    """

    def __init__(self, *modules: Module) -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], dict):
            for name, module in modules[0].items():
                self.add_module(str(name), module)
        else:
            for i, module in enumerate(modules):
                self.add_module(str(i), module)

    def forward(self, x):
        for module in self._modules.values():
            x = module(x)
        return x

    def append(self, module: Module) -> Sequential:
        """Add a module at the end."""
        self.add_module(str(len(self._modules)), module)
        return self

    def __getitem__(self, index: int | slice):
        items = list(self._modules.values())
        if isinstance(index, slice):
            if index.step == 0:
                raise ArgumentError("Sequential: slice step cannot be zero")
            return Sequential(*items[index])
        index = arguments.integer("Sequential", "index", index)
        if not -len(items) <= index < len(items):
            raise SequentialIndexError(f"Sequential: index {index} is out of range for "
                                       f"{len(items)} modules")
        return items[index]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

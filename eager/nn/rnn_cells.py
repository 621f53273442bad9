"""One time step of a recurrent layer, as PyTorch's `RNNCell`, `LSTMCell` and `GRUCell`:
the user's Python loop steps through time (time_sequence_prediction, char-RNNs). Names,
shapes, gate order and initialisation are PyTorch's (weight_ih, weight_hh, bias_ih,
bias_hh; U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))), so state_dicts load either way,
and each step is the same gate arithmetic as the matching full layer in `eager.nn.rnn`.

>>> import eager
>>> from eager import nn
>>> cell = nn.LSTMCell(3, 4)
>>> h, c = cell(eager.randn(2, 3))
>>> h.shape, c.shape, sorted(cell.state_dict())
((2, 4), (2, 4), ['bias_hh', 'bias_ih', 'weight_hh', 'weight_ih'])
"""
from __future__ import annotations

import math

from eager import arguments
from eager.creation import empty, zeros
from eager.dispatch import user_line_suffix
from eager.nn import init
from eager.nn.errors import ArgumentError
from eager.nn.module import Module
from eager.nn.parameter import Parameter
from eager.nn.rnn import GRU, LSTM, RNN
from eager.ops.linalg import matmul
from eager.tensor import Tensor
from kernels.errors import ShapeError

__all__ = ["GRUCell", "LSTMCell", "RNNCell"]


class _CellBase(Module):
    """Parameters and input/state checks shared by the cells; subclasses name the
    matching layer's step (`_step`) and how many gates and states they have."""

    gates = 1
    states = 1
    mode = "RNN_TANH"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, *,
                 dtype=None, device=None) -> None:
        super().__init__()
        name = type(self).__name__
        self.input_size = arguments.integer(name, "input_size", input_size, minimum=0)
        self.hidden_size = arguments.integer(name, "hidden_size", hidden_size, minimum=1)
        self.bias = arguments.boolean(name, "bias", bias)
        rows = self.gates * self.hidden_size
        self.weight_ih = Parameter(empty(rows, self.input_size, dtype=dtype, device=device))
        self.weight_hh = Parameter(empty(rows, self.hidden_size, dtype=dtype, device=device))
        if self.bias:
            self.bias_ih = Parameter(empty(rows, dtype=dtype, device=device))
            self.bias_hh = Parameter(empty(rows, dtype=dtype, device=device))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self, generator=None) -> None:
        """Every weight and bias from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound, generator)

    def _check(self, input: Tensor, hx) -> tuple[Tensor, tuple, bool]:
        name = type(self).__name__
        arguments.tensor(name, "input", input)
        if input.ndim not in (1, 2) or input.shape[-1] != self.input_size:
            raise ShapeError(f"{name}: input must be (batch, {self.input_size}) or "
                             f"unbatched ({self.input_size},), got {input.shape}"
                             f"{user_line_suffix()}")
        batched = input.ndim == 2
        x = input if batched else input.reshape(1, self.input_size)
        shape = (x.shape[0], self.hidden_size)
        if hx is None:
            zero = zeros(*shape, dtype=x.dtype, device=x.device)
            return x, (zero,) * self.states, batched
        state = tuple(hx) if self.states == 2 else (hx,)
        if len(state) != self.states:
            raise ArgumentError(f"{name}: the state must be a pair (h, c), got "
                                f"{len(state)} tensors")
        fixed = []
        for s in state:
            arguments.tensor(name, "hx", s)
            s = s if batched else s.reshape(1, *s.shape)
            if s.shape != shape:
                raise ShapeError(f"{name}: state of shape {s.shape} does not match "
                                 f"{shape} (batch, hidden_size){user_line_suffix()}")
            fixed.append(s)
        return x, tuple(fixed), batched

    def forward(self, input: Tensor, hx=None):
        x, state, batched = self._check(input, hx)
        projected = matmul(x, self.weight_ih.T)
        if self.bias_ih is not None:
            projected = projected + self.bias_ih
        out = type(self)._step(self, projected, state, self.weight_hh, self.bias_hh, None)
        if not batched:
            out = tuple(s.reshape(self.hidden_size) for s in out)
        return out if self.states == 2 else out[0]

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")


class RNNCell(_CellBase):
    """h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (nonlinearity="relu": relu); returns h'.

    >>> import eager
    >>> from eager import nn
    >>> nn.RNNCell(3, 5, nonlinearity="relu")(eager.randn(3)).shape
    (5,)
    """

    _step = RNN._cell

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", *, dtype=None, device=None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ArgumentError(f"RNNCell: nonlinearity must be 'tanh' or 'relu', got "
                                f"{nonlinearity!r}")
        super().__init__(input_size, hidden_size, bias, dtype=dtype, device=device)
        self.mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        self.nonlinearity = nonlinearity


class LSTMCell(_CellBase):
    """One LSTM step (gates i, f, g, o as `nn.LSTM`); takes (h, c), returns (h', c')."""

    gates, states, mode = 4, 2, "LSTM"
    _step = LSTM._cell


class GRUCell(_CellBase):
    """One GRU step (gates r, z, n as `nn.GRU`); returns h'.

    >>> import eager
    >>> from eager import nn
    >>> cell = nn.GRUCell(2, 3)
    >>> cell(eager.randn(4, 2), eager.zeros(4, 3)).shape
    (4, 3)
    """

    gates, mode = 3, "GRU"
    _step = GRU._cell

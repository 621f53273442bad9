"""Recurrent layers as PyTorch builds them: `RNN`, `LSTM` and `GRU` (multi-layer,
bidirectional, batch_first, dropout between layers, initial states, LSTM's `proj_size`),
with PyTorch's parameter names and shapes (weight_ih_l0, weight_hh_l0, bias_ih_l0,
bias_hh_l0, weight_hr_l0, ..._reverse), gate order (LSTM: i, f, g, o; GRU: r, z, n) and
initialisation U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), so state_dicts load either
way.

Each layer computes the input projection of every time step in one matmul, then steps
through time with small eager ops; a traced or jitted call unrolls the loop. A
`PackedSequence` input (`nn.utils.rnn`) runs padded, in the original batch order: past a
sequence's length its state is held (`where` on a per-step mask), so each sequence's
final state is the one at its last step, and the reverse direction starts there.

>>> import eager
>>> from eager import nn
>>> lstm = nn.LSTM(input_size=4, hidden_size=8, num_layers=2, batch_first=True)
>>> out, (h, c) = lstm(eager.randn(3, 5, 4))
>>> out.shape, h.shape, c.shape
((3, 5, 8), (2, 3, 8), (2, 3, 8))
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
from eager.nn.utils.rnn import PackedSequence, pad_packed_sequence, repack
from eager.ops import elementwise as E
from eager.ops.linalg import matmul
from eager.ops.shape import concat, stack, transpose
from eager.tensor import Tensor
from kernels.errors import ShapeError

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


class _RNNBase(Module):
    """Parameters, input/state handling and the layer loop shared by RNN, LSTM and GRU;
    subclasses define `_cell`."""

    mode = "RNN_TANH"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, *, dtype=None, device=None,
                 mode: str | None = None) -> None:
        super().__init__()
        if mode is not None:
            self.mode = mode
        name = type(self).__name__
        self.proj_size = arguments.integer(name, "proj_size", proj_size, minimum=0)
        if self.proj_size and self.mode != "LSTM":
            raise ArgumentError(f"{name}: proj_size is only supported for LSTM, not RNN or GRU")
        if self.proj_size >= hidden_size:
            raise ArgumentError(f"{name}: proj_size={proj_size} must be smaller than "
                                f"hidden_size={hidden_size}")
        self.input_size = arguments.integer(name, "input_size", input_size, minimum=0)
        self.hidden_size = arguments.integer(name, "hidden_size", hidden_size, minimum=1)
        self.num_layers = arguments.integer(name, "num_layers", num_layers, minimum=1)
        self.bias = arguments.boolean(name, "bias", bias)
        self.batch_first = arguments.boolean(name, "batch_first", batch_first)
        self.dropout = arguments.probability(name, "dropout", dropout)
        self.bidirectional = arguments.boolean(name, "bidirectional", bidirectional)
        directions = 2 if self.bidirectional else 1
        gate_size = _GATES[self.mode] * self.hidden_size
        out_size = self.proj_size or self.hidden_size
        self._flat_weights_names: list[str] = []
        for layer in range(self.num_layers):
            layer_input = self.input_size if layer == 0 else out_size * directions
            for direction in range(directions):
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                shapes = [("weight_ih", (gate_size, layer_input)),
                          ("weight_hh", (gate_size, out_size))]
                if self.bias:
                    shapes += [("bias_ih", (gate_size,)), ("bias_hh", (gate_size,))]
                if self.proj_size:
                    shapes.append(("weight_hr", (self.proj_size, self.hidden_size)))
                for kind, shape in shapes:
                    self.register_parameter(kind + suffix,
                                            Parameter(empty(*shape, dtype=dtype, device=device)))
                    self._flat_weights_names.append(kind + suffix)
        self.reset_parameters()

    def reset_parameters(self, generator=None) -> None:
        """Every weight and bias from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for name in self._flat_weights_names:
            init.uniform_(getattr(self, name), -bound, bound, generator)

    def flatten_parameters(self) -> None:
        """PyTorch packs the weights into one cuDNN buffer here; eager's layers read each
        weight where it is, so there is nothing to repack and this returns at once."""

    def _weights(self, layer: int, direction: int) -> tuple:
        """(weight_ih, weight_hh, bias_ih, bias_hh, weight_hr), None for those absent."""
        suffix = f"_l{layer}" + ("_reverse" if direction else "")
        present = {"weight_ih": True, "weight_hh": True, "bias_ih": self.bias,
                   "bias_hh": self.bias, "weight_hr": bool(self.proj_size)}
        return tuple(getattr(self, n + suffix) if there else None
                     for n, there in present.items())

    def _state_count(self) -> int:
        return 2 if self.mode == "LSTM" else 1

    def _check_input(self, x: Tensor) -> tuple[Tensor, bool]:
        name = type(self).__name__
        if isinstance(x, PackedSequence):
            if x.data.ndim != 2 or x.data.shape[-1] != self.input_size:
                raise ShapeError(f"{name}: a PackedSequence's data must be (steps, "
                                 f"{self.input_size}), got {x.data.shape}{user_line_suffix()}")
            return pad_packed_sequence(x)[0], True
        arguments.tensor(name, "input", x)
        if x.ndim not in (2, 3) or x.shape[-1] != self.input_size:
            raise ShapeError(f"{name}: input must be (length, batch, {self.input_size}) "
                             f"(batch first with batch_first=True) or unbatched (length, "
                             f"{self.input_size}), got {x.shape}{user_line_suffix()}")
        batched = x.ndim == 3
        if not batched:
            x = x.reshape(x.shape[0], 1, x.shape[1])
        elif self.batch_first:
            x = transpose(x, 0, 1)
        return x, batched

    def _initial(self, hx, batch: int, like: Tensor, batched: bool) -> list[Tensor]:
        name = type(self).__name__
        layers = self.num_layers * (2 if self.bidirectional else 1)
        # h is projected to proj_size when there is one; c keeps hidden_size.
        shapes = [(layers, batch, self.proj_size or self.hidden_size),
                  (layers, batch, self.hidden_size)][:self._state_count()]
        if hx is None:
            return [zeros(*shape, dtype=like.dtype, device=like.device) for shape in shapes]
        states = list(hx) if self.mode == "LSTM" else [hx]
        if self.mode == "LSTM" and len(states) != 2:
            raise ArgumentError(f"{name}: the initial state must be a pair (h_0, c_0)")
        out = []
        for s, shape in zip(states, shapes):
            arguments.tensor(name, "hx", s)
            if not batched:
                s = s.reshape(s.shape[0], 1, *s.shape[1:]) if s.ndim == 2 else s
            if s.shape != shape:
                raise ShapeError(f"{name}: initial state of shape {s.shape} does not match "
                                 f"{shape} (layers * directions, batch, size)"
                                 f"{user_line_suffix()}")
            out.append(s)
        return out

    def _cell(self, projected: Tensor, state: tuple, w_hh: Tensor, b_hh: Tensor | None,
              w_hr: Tensor | None) -> tuple:
        raise NotImplementedError

    def _run_direction(self, x: Tensor, state: tuple, layer: int, direction: int,
                       masks: list) -> tuple[Tensor, tuple]:
        w_ih, w_hh, b_ih, b_hh, w_hr = self._weights(layer, direction)
        projected = matmul(x, w_ih.T)
        if b_ih is not None:
            projected = projected + b_ih
        steps = range(x.shape[0] - 1, -1, -1) if direction else range(x.shape[0])
        outputs = [None] * x.shape[0]
        for t in steps:
            new = self._cell(projected[t], state, w_hh, b_hh, w_hr)
            if masks[t] is not None:   # some sequences of a packed batch have ended
                new = tuple(E.where(masks[t], n, s) for n, s in zip(new, state))
            state = new
            outputs[t] = state[0]
        return stack(outputs, axis=0), state

    @staticmethod
    def _step_masks(input, x: Tensor) -> list:
        """Per time step, None when every sequence runs, else a (batch, 1) bool tensor of
        those that still do (only for a PackedSequence input)."""
        if not isinstance(input, PackedSequence):
            return [None] * x.shape[0]
        from eager.creation import tensor

        lengths = input.lengths()
        running = tensor(lengths, device=x.device).reshape(-1, 1)
        return [None if t < min(lengths) else running > t for t in range(x.shape[0])]

    def forward(self, input: Tensor, hx=None):
        from eager.nn.functional import dropout

        x, batched = self._check_input(input)
        initial = self._initial(hx, x.shape[1], x, batched)
        masks = self._step_masks(input, x)
        directions = 2 if self.bidirectional else 1
        finals: list[list[Tensor]] = [[] for _ in range(self._state_count())]
        for layer in range(self.num_layers):
            if layer and self.dropout and self.training:
                x = dropout(x, self.dropout, True)
            outs = []
            for direction in range(directions):
                index = layer * directions + direction
                state = tuple(s[index] for s in initial)
                out, state = self._run_direction(x, state, layer, direction, masks)
                outs.append(out)
                for k, s in enumerate(state):
                    finals[k].append(s)
            x = outs[0] if directions == 1 else concat(outs, axis=-1)
        states = [stack(f, axis=0) for f in finals]
        if isinstance(input, PackedSequence):
            x = repack(x, input)
        elif not batched:
            x = x.reshape(x.shape[0], x.shape[2])
            states = [s.reshape(s.shape[0], s.shape[2]) for s in states]
        elif self.batch_first:
            x = transpose(x, 0, 1)
        return x, (tuple(states) if self.mode == "LSTM" else states[0])

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        if self.batch_first:
            text += ", batch_first=True"
        if self.dropout:
            text += f", dropout={self.dropout}"
        if self.bidirectional:
            text += ", bidirectional=True"
        if self.proj_size:
            text += f", proj_size={self.proj_size}"
        return text


def _hidden_projection(h: Tensor, w_hh: Tensor, b_hh: Tensor | None) -> Tensor:
    out = matmul(h, w_hh.T)
    return out if b_hh is None else out + b_hh


class RNN(_RNNBase):
    """h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh) (nonlinearity="relu": relu).
    Returns (output, h_n).

    >>> import eager
    >>> from eager import nn
    >>> out, h = nn.RNN(3, 5)(eager.randn(7, 2, 3))
    >>> out.shape, h.shape
    ((7, 2, 5), (1, 2, 5))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False, *, dtype=None,
                 device=None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ArgumentError(f"RNN: nonlinearity must be 'tanh' or 'relu', got "
                                f"{nonlinearity!r}")
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, dtype=dtype, device=device,
                         mode="RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU")
        self.nonlinearity = nonlinearity

    def _cell(self, projected, state, w_hh, b_hh, w_hr):
        pre = projected + _hidden_projection(state[0], w_hh, b_hh)
        return (E.tanh(pre) if self.mode == "RNN_TANH" else E.relu(pre),)


class LSTM(_RNNBase):
    """Long short-term memory: gates i, f, g, o from W_ih x + b_ih + W_hh h + b_hh;
    c' = f c + i g; h' = o tanh(c'), then h' = W_hr h' with `proj_size`. Returns
    (output, (h_n, c_n)).

    >>> import eager
    >>> from eager import nn
    >>> out, (h, c) = nn.LSTM(3, 8, proj_size=2)(eager.randn(5, 4, 3))
    >>> out.shape, h.shape, c.shape
    ((5, 4, 2), (1, 4, 2), (1, 4, 8))
    """

    mode = "LSTM"

    def _cell(self, projected, state, w_hh, b_hh, w_hr):
        h, c = state
        gates = projected + _hidden_projection(h, w_hh, b_hh)
        size = self.hidden_size
        i = E.sigmoid(gates[:, :size])
        f = E.sigmoid(gates[:, size:2 * size])
        g = E.tanh(gates[:, 2 * size:3 * size])
        o = E.sigmoid(gates[:, 3 * size:])
        c = f * c + i * g
        h = o * E.tanh(c)
        return (h if w_hr is None else matmul(h, w_hr.T)), c


class GRU(_RNNBase):
    """Gated recurrent unit: r, z = sigmoid(...); n = tanh(W_in x + b_in + r (W_hn h +
    b_hn)); h' = (1 - z) n + z h. Returns (output, h_n).

    >>> import eager
    >>> from eager import nn
    >>> sorted(nn.GRU(2, 3).state_dict())
    ['bias_hh_l0', 'bias_ih_l0', 'weight_hh_l0', 'weight_ih_l0']
    """

    mode = "GRU"

    def _cell(self, projected, state, w_hh, b_hh, w_hr):
        (h,) = state
        hidden = _hidden_projection(h, w_hh, b_hh)
        size = self.hidden_size
        r = E.sigmoid(projected[:, :size] + hidden[:, :size])
        z = E.sigmoid(projected[:, size:2 * size] + hidden[:, size:2 * size])
        n = E.tanh(projected[:, 2 * size:] + r * hidden[:, 2 * size:])
        return ((1.0 - z) * n + z * h,)

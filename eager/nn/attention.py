"""Attention: `F.scaled_dot_product_attention` and `nn.MultiheadAttention`, with
PyTorch's arguments, masks and parameter names (in_proj_weight, in_proj_bias, out_proj).

scaled_dot_product_attention is a composite of matmul, softmax and where, so the fuser
sees through it. Its boolean attn_mask marks positions that MAY be attended (True = keep),
as in PyTorch; MultiheadAttention's boolean masks mark positions that may NOT (True =
masked), also as in PyTorch.

>>> import eager
>>> import eager.nn.functional as F
>>> q = k = v = eager.ones(1, 2, 3, 4)
>>> F.scaled_dot_product_attention(q, k, v, is_causal=True).shape
(1, 2, 3, 4)
"""
from __future__ import annotations

import math

from eager import arguments
from eager.creation import zeros
from eager.dispatch import user_line_suffix
from eager.nn import init
from eager.nn.errors import ArgumentError
from eager.nn.module import Module
from eager.nn.parameter import Parameter
from eager.ops import elementwise as E
from eager.ops.linalg import matmul
from eager.ops.shape import reshape, transpose
from eager.tensor import Tensor
from kernels.errors import ShapeError


def _causal_mask(length: int, source: int, device) -> Tensor:
    """(length, source) bool, True on and below the diagonal (what may be attended)."""
    from eager.creation import arange

    rows = reshape(arange(length, device=device), (length, 1))
    return arange(source, device=device) <= rows


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor,
                                 attn_mask: Tensor | None = None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None,
                                 generator=None) -> Tensor:
    """softmax(q k^T * scale + mask) v over (..., L, E) queries and (..., S, E) keys.

    attn_mask broadcasts to (..., L, S): bool (True = may attend) or floating (added to
    the scores). is_causal=True lets position i attend to positions <= i. scale defaults
    to 1 / sqrt(E). dropout_p drops attention weights (pass 0.0 in evaluation, as torch).

    >>> import eager
    >>> q = eager.tensor([[[1.0, 0.0], [0.0, 1.0]]])
    >>> v = eager.tensor([[[1.0, 2.0], [3.0, 4.0]]])
    >>> scaled_dot_product_attention(q, q, v, is_causal=True)[0, 0].tolist()
    [1.0, 2.0]
    """
    from eager.nn.functional import dropout, softmax

    op = "scaled_dot_product_attention"
    for name, t in (("query", query), ("key", key), ("value", value)):
        arguments.tensor(op, name, t)
        if t.ndim < 2:
            raise ShapeError(f"{op}: {name} must be (..., length, features), got {t.shape}"
                             f"{user_line_suffix()}")
    arguments.optional_tensor(op, "attn_mask", attn_mask)
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise ShapeError(f"{op}: query {query.shape}, key {key.shape} and value {value.shape} "
                         f"must share the feature size (query/key) and the source length "
                         f"(key/value){user_line_suffix()}")
    if is_causal and attn_mask is not None:
        raise ArgumentError(f"{op}: give attn_mask or is_causal=True, not both")
    factor = 1.0 / math.sqrt(query.shape[-1]) if scale is None else \
        arguments.real(op, "scale", scale)
    scores = matmul(query, transpose(key, -2, -1)) * factor
    if is_causal:
        attn_mask = _causal_mask(query.shape[-2], key.shape[-2], query.device)
    if attn_mask is not None:
        if attn_mask.dtype.kind == "b":
            scores = E.where(attn_mask, scores, -math.inf)
        else:
            scores = scores + attn_mask
    weights = softmax(scores, dim=-1)
    if dropout_p:
        weights = dropout(weights, dropout_p, True, generator=generator)
    return matmul(weights, value)


def _additive(mask: Tensor | None, dtype) -> Tensor | None:
    """A MultiheadAttention mask (bool: True = masked; or floating, added) as floats."""
    if mask is None or mask.dtype.kind != "b":
        return mask
    return E.where(mask, -math.inf, zeros((), dtype=dtype, device=mask.device))


class MultiheadAttention(Module):
    """Attention with num_heads heads over embed_dim features, as PyTorch's layer:
    inputs (L, N, E), or (N, L, E) with batch_first=True, and a call that returns
    (output, weights averaged over heads, or None when need_weights=False).

    >>> import eager
    >>> from eager import nn
    >>> mha = nn.MultiheadAttention(8, 2, batch_first=True)
    >>> x = eager.randn(3, 5, 8)
    >>> out, weights = mha(x, x, x)
    >>> out.shape, weights.shape, sorted(mha.state_dict())
    ((3, 5, 8), (3, 5, 5), ['in_proj_bias', 'in_proj_weight', 'out_proj.bias', 'out_proj.weight'])
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0,
                 bias: bool = True, add_bias_kv: bool = False, add_zero_attn: bool = False,
                 kdim: int | None = None, vdim: int | None = None, batch_first: bool = False,
                 *, dtype=None, device=None) -> None:
        from eager.nn.layers import Linear

        super().__init__()
        name = "MultiheadAttention"
        self.embed_dim = arguments.integer(name, "embed_dim", embed_dim, minimum=1)
        self.num_heads = arguments.integer(name, "num_heads", num_heads, minimum=1)
        if self.embed_dim % self.num_heads:
            raise ArgumentError(f"{name}: embed_dim {embed_dim} must be divisible by "
                                f"num_heads {num_heads}")
        if add_bias_kv or add_zero_attn or kdim not in (None, embed_dim) or \
                vdim not in (None, embed_dim):
            raise ArgumentError(f"{name}: add_bias_kv, add_zero_attn and kdim/vdim other than "
                                f"embed_dim are not supported")
        self.dropout = arguments.probability(name, "dropout", dropout)
        self.batch_first = arguments.boolean(name, "batch_first", batch_first)
        self.head_dim = self.embed_dim // self.num_heads
        e = self.embed_dim
        self.in_proj_weight = Parameter(zeros(3 * e, e, dtype=dtype, device=device))
        self.in_proj_bias = Parameter(zeros(3 * e, dtype=dtype, device=device)) if bias \
            else None
        self.out_proj = Linear(e, e, bias=bias, dtype=dtype, device=device)
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        init.xavier_uniform_(self.in_proj_weight)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)

    def _heads(self, x: Tensor, batch: int) -> Tensor:
        """(N, L, E) -> (N, heads, L, head_dim)."""
        return transpose(reshape(x, (batch, x.shape[1], self.num_heads, self.head_dim)), 1, 2)

    def forward(self, query: Tensor, key: Tensor, value: Tensor,
                key_padding_mask: Tensor | None = None, need_weights: bool = True,
                attn_mask: Tensor | None = None, average_attn_weights: bool = True,
                is_causal: bool = False) -> tuple[Tensor, Tensor | None]:
        from eager.nn.functional import dropout, linear, softmax

        name = "MultiheadAttention"
        for label, t in (("query", query), ("key", key), ("value", value)):
            arguments.tensor(name, label, t)
            if t.ndim != 3 or t.shape[-1] != self.embed_dim:
                raise ShapeError(f"{name}: {label} must be 3-d with {self.embed_dim} features, "
                                 f"got {t.shape}{user_line_suffix()}")
        if not self.batch_first:
            query, key, value = (transpose(t, 0, 1) for t in (query, key, value))
        batch, length, source = query.shape[0], query.shape[1], key.shape[1]
        e = self.embed_dim
        w, b = self.in_proj_weight, self.in_proj_bias
        q, k, v = (linear(t, w[i * e:(i + 1) * e], None if b is None else b[i * e:(i + 1) * e])
                   for i, t in enumerate((query, key, value)))
        q, k, v = self._heads(q, batch), self._heads(k, batch), self._heads(v, batch)
        scores = matmul(q, transpose(k, -2, -1)) * (1.0 / math.sqrt(self.head_dim))
        if is_causal and attn_mask is None:
            attn_mask = ~_causal_mask(length, source, query.device)
        mask = _additive(attn_mask, scores.dtype)
        if mask is not None:
            if mask.ndim == 3:
                mask = reshape(mask, (batch, self.num_heads, length, source))
            scores = scores + mask
        padding = _additive(key_padding_mask, scores.dtype)
        if padding is not None:
            scores = scores + reshape(padding, (batch, 1, 1, source))
        weights = softmax(scores, dim=-1)
        dropped = dropout(weights, self.dropout, self.training) if self.dropout else weights
        out = transpose(matmul(dropped, v), 1, 2)
        out = self.out_proj(reshape(out, (batch, length, e)))
        if not self.batch_first:
            out = transpose(out, 0, 1)
        if not need_weights:
            return out, None
        return out, (weights.mean(dim=1) if average_attn_weights else weights)

    def extra_repr(self) -> str:
        return f"embed_dim={self.embed_dim}, num_heads={self.num_heads}"


__all__ = ["MultiheadAttention", "scaled_dot_product_attention"]

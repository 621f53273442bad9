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
from eager.ops.shape import concat, expand, reshape, transpose
from eager.tensor import Tensor
from kernels.errors import DTypeError, ShapeError


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


def _extra_column(mask: Tensor | None) -> Tensor | None:
    """An additive mask with one more source position, which every query may attend."""
    if mask is None:
        return None
    return concat([mask, zeros(*mask.shape[:-1], 1, dtype=mask.dtype, device=mask.device)],
                  axis=-1)


def _check_inputs(op: str, query: Tensor, key: Tensor, value: Tensor,
                  key_padding_mask: Tensor | None, attn_mask: Tensor | None,
                  num_heads: int, features: tuple[int, int, int],
                  batch_first: bool = False) -> bool:
    """PyTorch's shape rules for (L, N, E) (or (N, L, E) with batch_first) and unbatched
    (L, E) inputs; True when batched."""
    layout = "(batch, length, features)" if batch_first else "(length, batch, features)"
    for label, t, size in (("query", query, features[0]), ("key", key, features[1]),
                           ("value", value, features[2])):
        arguments.tensor(op, label, t)
        if t.ndim not in (2, 3) or t.ndim != query.ndim or t.shape[-1] != size:
            raise ShapeError(f"{op}: {label} must be {'3' if query.ndim == 3 else '2'}-d "
                             f"({layout}, or (length, features) unbatched) with {size} "
                             f"features, got {t.shape} (query {query.shape})"
                             f"{user_line_suffix()}")
    batched = query.ndim == 3
    along, across = (1, 0) if batched and batch_first else (0, 1)
    if key.shape[:-1] != value.shape[:-1] or \
            (batched and key.shape[across] != query.shape[across]):
        raise ShapeError(f"{op}: key {key.shape} and value {value.shape} must have one source "
                         f"length, and the batch of query {query.shape}{user_line_suffix()}")
    length, source = query.shape[along], key.shape[along]
    batch = query.shape[across] if batched else 1
    if key_padding_mask is not None:
        want = (batch, source) if batched else (source,)
        if arguments.tensor(op, "key_padding_mask", key_padding_mask).shape != want:
            raise ShapeError(f"{op}: key_padding_mask must be {want} (batch, source length) "
                             f"for key {key.shape}, got {key_padding_mask.shape}"
                             f"{user_line_suffix()}")
    if attn_mask is not None:
        wants = ((length, source), (batch * num_heads, length, source))
        if arguments.tensor(op, "attn_mask", attn_mask).shape not in wants:
            raise ShapeError(f"{op}: attn_mask must be {wants[0]} or {wants[1]} (batch * "
                             f"num_heads, query length, source length), got "
                             f"{attn_mask.shape}{user_line_suffix()}")
    for name, mask in (("key_padding_mask", key_padding_mask), ("attn_mask", attn_mask)):
        if mask is not None and mask.dtype.kind not in "bf":
            raise DTypeError(f"{op}: {name} must be bool (True = masked) or floating (added "
                             f"to the scores), got {mask.dtype.name}{user_line_suffix()}")
    return batched


def _project(x: Tensor, weight: Tensor, bias: Tensor | None, part: int) -> Tensor:
    from eager.nn.functional import linear

    e = weight.shape[0]
    return linear(x, weight, None if bias is None else bias[part * e:(part + 1) * e])


def _heads(x: Tensor, num_heads: int) -> Tensor:
    """(N, L, E) -> (N, heads, L, head_dim)."""
    batch, length, e = x.shape
    return transpose(reshape(x, (batch, length, num_heads, e // num_heads)), 1, 2)


def _attend(op: str, query: Tensor, key: Tensor, value: Tensor, num_heads: int,
            projections: tuple[Tensor, Tensor, Tensor], in_proj_bias: Tensor | None,
            bias_k: Tensor | None, bias_v: Tensor | None, add_zero_attn: bool,
            dropout_p: float, out_proj_weight: Tensor, out_proj_bias: Tensor | None,
            training: bool, key_padding_mask: Tensor | None, need_weights: bool,
            attn_mask: Tensor | None, average_attn_weights: bool, is_causal: bool,
            static_k: Tensor | None = None,
            static_v: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
    """Attention over checked batch-first inputs: query (N, L, E), key/value (N, S, *)."""
    from eager.nn.functional import dropout, linear, softmax

    batch, length, e = query.shape
    head_dim = e // num_heads
    q = _project(query, projections[0], in_proj_bias, 0)
    k = _project(key, projections[1], in_proj_bias, 1)
    v = _project(value, projections[2], in_proj_bias, 2)
    if is_causal and attn_mask is None:
        attn_mask = ~_causal_mask(length, key.shape[1], query.device)
    mask = _additive(attn_mask, q.dtype)
    padding = _additive(key_padding_mask, q.dtype)
    if mask is not None and mask.ndim == 3:
        mask = reshape(mask, (batch, num_heads, length, mask.shape[-1]))
    if padding is not None:
        padding = reshape(padding, (batch, 1, 1, padding.shape[-1]))
    if bias_k is not None:
        k = concat([k, expand(bias_k, batch, 1, e)], axis=1)
        v = concat([v, expand(bias_v, batch, 1, e)], axis=1)
        mask, padding = _extra_column(mask), _extra_column(padding)
    q, k, v = _heads(q, num_heads), _heads(k, num_heads), _heads(v, num_heads)
    for name, static in (("static_k", static_k), ("static_v", static_v)):
        if static is not None:
            arguments.tensor(op, name, static)
            if static.ndim != 3 or static.shape[0] != batch * num_heads or \
                    static.shape[2] != head_dim:
                raise ShapeError(f"{op}: {name} must be ({batch * num_heads}, source length, "
                                 f"{head_dim}) (batch * num_heads, S, head_dim), got "
                                 f"{static.shape}{user_line_suffix()}")
    if static_k is not None:
        k = reshape(static_k, (batch, num_heads, static_k.shape[1], head_dim))
    if static_v is not None:
        v = reshape(static_v, (batch, num_heads, static_v.shape[1], head_dim))
    if add_zero_attn:
        k = concat([k, zeros(batch, num_heads, 1, head_dim, dtype=k.dtype, device=k.device)],
                   axis=2)
        v = concat([v, zeros(batch, num_heads, 1, head_dim, dtype=v.dtype, device=v.device)],
                   axis=2)
        mask, padding = _extra_column(mask), _extra_column(padding)
    scores = matmul(q, transpose(k, -2, -1)) * (1.0 / math.sqrt(head_dim))
    for extra in (mask, padding):
        if extra is not None:
            if extra.shape[-1] != scores.shape[-1]:
                raise ShapeError(f"{op}: the masks cover {extra.shape[-1]} source positions "
                                 f"but the keys have {scores.shape[-1]}{user_line_suffix()}")
            scores = scores + extra
    weights = softmax(scores, dim=-1)
    if dropout_p and training:
        weights = dropout(weights, dropout_p, True)
    out = reshape(transpose(matmul(weights, v), 1, 2), (batch, length, e))
    out = linear(out, out_proj_weight, out_proj_bias)
    if not need_weights:
        return out, None
    return out, (weights.mean(dim=1) if average_attn_weights else weights)


def _batch_first(t: Tensor | None, batched: bool) -> Tensor | None:
    """(L, N, E) -> (N, L, E); an unbatched (L, E) -> (1, L, E)."""
    if t is None:
        return None
    return transpose(t, 0, 1) if batched else reshape(t, (1, *t.shape))


def _unbatched(mask: Tensor | None) -> Tensor | None:
    return None if mask is None else reshape(mask, (1, *mask.shape))


def _result(out: Tensor, weights: Tensor | None, batched: bool, batch_first: bool):
    if not batched:
        return out[0], None if weights is None else weights[0]
    return (out if batch_first else transpose(out, 0, 1)), weights


def multi_head_attention_forward(
        query: Tensor, key: Tensor, value: Tensor, embed_dim_to_check: int, num_heads: int,
        in_proj_weight: Tensor | None, in_proj_bias: Tensor | None, bias_k: Tensor | None,
        bias_v: Tensor | None, add_zero_attn: bool, dropout_p: float,
        out_proj_weight: Tensor, out_proj_bias: Tensor | None, training: bool = True,
        key_padding_mask: Tensor | None = None, need_weights: bool = True,
        attn_mask: Tensor | None = None, use_separate_proj_weight: bool = False,
        q_proj_weight: Tensor | None = None, k_proj_weight: Tensor | None = None,
        v_proj_weight: Tensor | None = None, static_k: Tensor | None = None,
        static_v: Tensor | None = None, average_attn_weights: bool = True,
        is_causal: bool = False) -> tuple[Tensor, Tensor | None]:
    """PyTorch's functional MultiheadAttention: inputs (L, N, E) and (S, N, kdim/vdim), or
    unbatched (L, E); returns (output, weights averaged over heads, per head with
    average_attn_weights=False, or None with need_weights=False).

    >>> import eager
    >>> x = eager.randn(4, 2, 6)
    >>> w, wo = eager.randn(18, 6), eager.randn(6, 6)
    >>> out, weights = multi_head_attention_forward(x, x, x, 6, 2, w, None, None, None,
    ...                                             False, 0.0, wo, None)
    >>> out.shape, weights.shape
    ((4, 2, 6), (2, 4, 4))
    """
    op = "multi_head_attention_forward"
    if use_separate_proj_weight:
        projections = (q_proj_weight, k_proj_weight, v_proj_weight)
        names = ("q_proj_weight", "k_proj_weight", "v_proj_weight")
    else:
        w = arguments.tensor(op, "in_proj_weight", in_proj_weight)
        e = w.shape[0] // 3
        projections = (w[:e], w[e:2 * e], w[2 * e:])
        names = ("in_proj_weight",) * 3
    for name, weight in zip(names, projections):
        arguments.tensor(op, name, weight)
        if weight.ndim != 2 or weight.shape[0] != embed_dim_to_check:
            raise ShapeError(f"{op}: {name} must be ({embed_dim_to_check}, features) per "
                             f"projection, got {weight.shape}{user_line_suffix()}")
    if embed_dim_to_check % num_heads:
        raise ArgumentError(f"{op}: embed_dim {embed_dim_to_check} must be divisible by "
                            f"num_heads {num_heads}")
    if (bias_k is None) != (bias_v is None) or (bias_k is not None and (
            static_k is not None or static_v is not None)):
        raise ArgumentError(f"{op}: give bias_k and bias_v together, and not with "
                            f"static_k/static_v")
    features = (embed_dim_to_check, projections[1].shape[1], projections[2].shape[1])
    batched = _check_inputs(op, query, key, value, key_padding_mask, attn_mask, num_heads,
                            features)
    if not batched:
        key_padding_mask = _unbatched(key_padding_mask)
    out, weights = _attend(
        op, _batch_first(query, batched), _batch_first(key, batched),
        _batch_first(value, batched), num_heads, projections, in_proj_bias, bias_k, bias_v,
        add_zero_attn, dropout_p, out_proj_weight, out_proj_bias, training, key_padding_mask,
        need_weights, attn_mask, average_attn_weights, is_causal, static_k, static_v)
    return _result(out, weights, batched, False)


class MultiheadAttention(Module):
    """Attention with num_heads heads over embed_dim features, as PyTorch's layer:
    inputs (L, N, E), or (N, L, E) with batch_first=True, or unbatched (L, E); keys of
    kdim and values of vdim features; add_bias_kv appends a learned key and value,
    add_zero_attn a zero one. A call returns (output, weights averaged over heads, per
    head with average_attn_weights=False, or None with need_weights=False); the weights
    are those the values were averaged with, after dropout, as torch.

    >>> import eager
    >>> from eager import nn
    >>> mha = nn.MultiheadAttention(8, 2, batch_first=True)
    >>> x = eager.randn(3, 5, 8)
    >>> out, weights = mha(x, x, x)
    >>> out.shape, weights.shape, sorted(mha.state_dict())
    ((3, 5, 8), (3, 5, 5), ['in_proj_bias', 'in_proj_weight', 'out_proj.bias', 'out_proj.weight'])
    >>> cross = nn.MultiheadAttention(8, 2, kdim=3, vdim=4, add_bias_kv=True)
    >>> [(k, v.shape) for k, v in cross.state_dict().items()][:3]
    [('q_proj_weight', (8, 8)), ('k_proj_weight', (8, 3)), ('v_proj_weight', (8, 4))]
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0,
                 bias: bool = True, add_bias_kv: bool = False, add_zero_attn: bool = False,
                 kdim: int | None = None, vdim: int | None = None, batch_first: bool = False,
                 *, dtype=None, device=None) -> None:
        from eager.nn.layers import Linear

        super().__init__()
        name = "MultiheadAttention"
        self.embed_dim = e = arguments.integer(name, "embed_dim", embed_dim, minimum=1)
        self.num_heads = arguments.integer(name, "num_heads", num_heads, minimum=1)
        if self.embed_dim % self.num_heads:
            raise ArgumentError(f"{name}: embed_dim {embed_dim} must be divisible by "
                                f"num_heads {num_heads}")
        self.kdim = e if kdim is None else arguments.integer(name, "kdim", kdim, minimum=1)
        self.vdim = e if vdim is None else arguments.integer(name, "vdim", vdim, minimum=1)
        self._qkv_same_embed_dim = self.kdim == e and self.vdim == e
        self.dropout = arguments.probability(name, "dropout", dropout)
        self.batch_first = arguments.boolean(name, "batch_first", batch_first)
        self.add_zero_attn = arguments.boolean(name, "add_zero_attn", add_zero_attn)
        self.head_dim = e // self.num_heads
        kw = {"dtype": dtype, "device": device}
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(zeros(3 * e, e, **kw))
            self.q_proj_weight = self.k_proj_weight = self.v_proj_weight = None
        else:
            self.q_proj_weight = Parameter(zeros(e, e, **kw))
            self.k_proj_weight = Parameter(zeros(e, self.kdim, **kw))
            self.v_proj_weight = Parameter(zeros(e, self.vdim, **kw))
            self.in_proj_weight = None
        self.in_proj_bias = Parameter(zeros(3 * e, **kw)) if bias else None
        if arguments.boolean(name, "add_bias_kv", add_bias_kv):
            self.bias_k = Parameter(zeros(1, 1, e, **kw))
            self.bias_v = Parameter(zeros(1, 1, e, **kw))
        else:
            self.bias_k = self.bias_v = None
        self.out_proj = Linear(e, e, bias=bias, **kw)
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        for weight in (self.in_proj_weight, self.q_proj_weight, self.k_proj_weight,
                       self.v_proj_weight):
            if weight is not None:
                init.xavier_uniform_(weight)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)
        for extra in (self.bias_k, self.bias_v):
            if extra is not None:
                init.xavier_normal_(extra)

    def _projections(self) -> tuple[Tensor, Tensor, Tensor]:
        if not self._qkv_same_embed_dim:
            return self.q_proj_weight, self.k_proj_weight, self.v_proj_weight
        w, e = self.in_proj_weight, self.embed_dim
        return w[:e], w[e:2 * e], w[2 * e:]

    def forward(self, query: Tensor, key: Tensor, value: Tensor,
                key_padding_mask: Tensor | None = None, need_weights: bool = True,
                attn_mask: Tensor | None = None, average_attn_weights: bool = True,
                is_causal: bool = False) -> tuple[Tensor, Tensor | None]:
        """(output, attention weights or None); see the class docstring for the shapes."""
        batched = _check_inputs("MultiheadAttention", query, key, value, key_padding_mask,
                                attn_mask, self.num_heads,
                                (self.embed_dim, self.kdim, self.vdim), self.batch_first)
        if not batched:
            key_padding_mask = _unbatched(key_padding_mask)
        if not (batched and self.batch_first):
            query, key, value = (_batch_first(t, batched) for t in (query, key, value))
        # reading `training` is a guard under @jit: read it only when dropout can apply
        training = bool(self.dropout) and self.training
        out, weights = _attend(
            "MultiheadAttention", query, key, value, self.num_heads, self._projections(),
            self.in_proj_bias, self.bias_k, self.bias_v, self.add_zero_attn, self.dropout,
            self.out_proj.weight, self.out_proj.bias, training, key_padding_mask,
            need_weights, attn_mask, average_attn_weights, is_causal)
        return _result(out, weights, batched, self.batch_first)

    def extra_repr(self) -> str:
        return f"embed_dim={self.embed_dim}, num_heads={self.num_heads}"


__all__ = ["MultiheadAttention", "multi_head_attention_forward",
           "scaled_dot_product_attention"]

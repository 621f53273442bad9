"""Hypothesis strategies for random eager programs, shared by the jit test files.

A program is a list of instructions over a growing list of tensors; `run_program`
executes it with eager ops, so the same program can run eagerly, traced and jitted.
`programs` draws floating-point programs (with gradients); `typed_programs` draws
int32, int64, bool and float16 programs from the ops valid for that dtype, run by
`run_typed_program` on inputs from `make_typed_inputs`.
"""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import eager

UNARY = ["exp", "tanh", "sigmoid", "neg", "abs", "sin", "relu", "square"]
BINARY = ["add", "sub", "mul", "maximum", "div_safe"]


def _unary(name, x):
    if name == "relu":
        return eager.maximum(x, 0.0)
    if name == "square":
        return x * x
    if name == "exp":
        return eager.exp(eager.clip(x, -5.0, 5.0))
    return getattr(eager, {"neg": "negative"}.get(name, name))(x)


def _binary(name, a, b):
    if name == "div_safe":
        return a / (b.abs() + 1.0)
    return getattr(eager, {"sub": "subtract", "mul": "multiply"}.get(name, name))(a, b)


def run_program(program, inputs):
    """Run `program` on a list of tensors; returns the last value computed."""
    values = list(inputs)
    for instr in program:
        kind = instr[0]
        pick = [values[i % len(values)] for i in instr[1]]
        if kind == "unary":
            values.append(_unary(instr[2], pick[0]))
        elif kind == "binary":
            values.append(_binary(instr[2], pick[0], pick[1]))
        elif kind == "scalar":
            values.append(pick[0] * instr[2] + instr[3])
        elif kind == "sum":
            x = pick[0]
            values.append(x.sum(axis=-1, keepdims=True) if x.ndim else x)
        elif kind == "max":
            x = pick[0]
            values.append(x.max(axis=0, keepdims=True) if x.ndim else x)
        elif kind == "transpose":
            values.append(pick[0].T.T * 1.0)
        elif kind == "where":
            values.append(eager.where(pick[0] > pick[1], pick[0], pick[1] * 0.5))
        elif kind == "matmul":
            x = pick[0]
            values.append(((x @ x.T) @ x).tanh() if x.ndim == 2 else (x @ x) * x)
        elif kind == "slice":
            x = pick[0]
            values.append(x[..., :1] * 2.0 + x)
        elif kind == "softmax":
            x = pick[0]
            e = (x - x.max(axis=-1, keepdims=True)).exp()
            values.append(e / e.sum(axis=-1, keepdims=True))
        elif kind == "inplace":
            y = pick[0] * 1.5
            y.mul_(0.5)
            y.add_(pick[0])
            values.append(y)
        elif kind == "reshape":
            x = pick[0]
            values.append(x.reshape(-1).reshape(x.shape).exp().reshape(-1).reshape(x.shape))
    return values[-1]


@st.composite
def programs(draw, max_len: int = 8):
    """(shapes, program): 1-3 input shapes broadcastable to one base shape, instructions."""
    base = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=2)))
    shapes = [base]
    for _ in range(draw(st.integers(0, 2))):
        shapes.append(tuple(d if draw(st.booleans()) else 1 for d in base))
    program = []
    for _ in range(draw(st.integers(1, max_len))):
        refs = tuple(draw(st.integers(0, 50)) for _ in range(2))
        kind = draw(st.sampled_from(["unary", "binary", "scalar", "sum", "max", "transpose",
                                     "where", "unary", "binary", "matmul", "slice", "softmax",
                                     "reshape", "inplace"]))
        if kind == "unary":
            program.append((kind, refs[:1], draw(st.sampled_from(UNARY))))
        elif kind == "binary":
            program.append((kind, refs, draw(st.sampled_from(BINARY))))
        elif kind == "scalar":
            program.append((kind, refs[:1], draw(st.sampled_from([1.0, 2.0, -0.5])),
                            draw(st.sampled_from([0.0, 1.0, 0.25]))))
        else:
            program.append((kind, refs))
    return shapes, program


def make_inputs(shapes, seed, requires_grad=False, dtype=np.float64):
    """Fresh random tensors of the given shapes."""
    rng = np.random.default_rng(seed)
    return [eager.tensor(rng.uniform(-2, 2, s).astype(dtype), requires_grad=requires_grad)
            for s in shapes]


# ---- int, bool and float16 programs ------------------------------------------------------
TYPED_DTYPES = (np.int32, np.int64, np.bool_, np.float16)
COMPARISONS = ["greater", "less", "equal", "not_equal", "greater_equal", "less_equal"]
LOGICAL = ["logical_and", "logical_or", "logical_xor"]
NUMERIC_BINARY = ["add", "subtract", "multiply", "maximum", "minimum"]
INT_UNARY = ["negative", "abs", "sign", "square"]
FLOAT16_UNARY = ["negative", "abs", "tanh", "sigmoid", "exp"]
# Integer results are clamped so no program overflows (C signed overflow is undefined).
LIMIT = 1000

# Kinds valid for each dtype family; every instruction's result keeps the program's dtype.
_COMMON = ["where", "logical", "not", "max", "min", "sum", "cast", "slice", "reshape",
           "transpose", "setitem", "argmax", "prod", "cumsum", "sort"]
TYPED_KINDS = {
    "int": _COMMON + ["binary", "binary", "unary", "scalar", "divmod", "inplace", "matmul"],
    "bool": _COMMON + ["logical", "where"],
    "float16": _COMMON + ["binary", "binary", "unary", "scalar", "inplace"],
}
# The dtype a "cast" instruction goes through and back again (exact for these values).
CAST_VIA = {np.int32: [np.int64, np.float32], np.int64: [np.int32, np.float64],
            np.bool_: [np.int32, np.float16], np.float16: [np.float32, np.float64]}


def _family(dtype) -> str:
    dtype = np.dtype(dtype)
    return "bool" if dtype == np.bool_ else "float16" if dtype == np.float16 else "int"


def _clamp(x):
    if _family(x.dtype) == "bool":
        return x
    return eager.clip(x, -LIMIT, LIMIT)


def _as(x, dtype):
    return x if x.dtype == dtype else x.astype(dtype)


def run_typed_program(program, inputs):
    """Run a `typed_programs` program on tensors of one dtype; returns the last value,
    which has that dtype too."""
    values = list(inputs)
    dtype = values[0].dtype
    is_bool = _family(dtype) == "bool"
    for instr in program:
        kind = instr[0]
        a, b = (values[i % len(values)] for i in instr[1])
        if kind == "where":
            out = eager.where(getattr(eager, instr[2])(a, b), a, b)
        elif kind == "logical":
            out = _as(getattr(eager, instr[2])(a, b), dtype)
        elif kind == "not":
            out = _as(eager.logical_not(a), dtype)
        elif kind == "binary":
            out = _clamp(getattr(eager, instr[2])(a, b))
        elif kind == "unary":
            name = instr[2]
            if name == "square":
                out = _clamp(a * a)
            elif name == "exp":
                out = eager.exp(eager.clip(a, -4.0, 4.0))
            else:
                out = getattr(eager, name)(a)
        elif kind == "scalar":
            out = _clamp(a * instr[2] + instr[3])
        elif kind == "divmod":
            out = getattr(eager, instr[2])(a, b.abs() + 1)
        elif kind in ("max", "min"):
            out = getattr(a, kind)(axis=0, keepdims=True) if a.ndim else a
        elif kind == "sum":
            total = a.sum(axis=-1, keepdims=True) if a.ndim else a
            out = total > 1 if is_bool else _as(_clamp(total), dtype)
        elif kind == "cast":
            out = _as(_as(a, instr[2]), dtype)
        elif kind == "argmax":
            index = a.argmax(axis=-1, keepdims=True) if a.ndim else a.argmax()
            out = index > 0 if is_bool else _as(index, dtype)
        elif kind == "prod":
            product = _clamp(eager.clip(a, -3, 3).prod(axis=0, keepdims=True)) if a.ndim else a
            out = _as(product, dtype)
        elif kind == "cumsum":
            running = eager.cumsum(a, axis=-1) if a.ndim else a
            out = running > 1 if is_bool else _as(_clamp(running), dtype)
        elif kind == "sort":
            out = eager.sort(a, axis=-1) if a.ndim else a
        elif kind == "matmul":
            x = eager.clip(a, -10, 10)
            out = _clamp(_clamp(x @ x.T) @ x) if x.ndim == 2 else _clamp((x @ x) * x)
        elif kind == "slice":
            head = a[..., :1]
            out = eager.logical_or(head, a) if is_bool else _clamp(head * 2 + a)
        elif kind == "reshape":
            out = eager.logical_not(a.reshape(-1)).reshape(a.shape) if is_bool \
                else (-a.reshape(-1)).reshape(a.shape)
        elif kind == "transpose":
            out = eager.logical_not(a.T).T if is_bool else (a.T * 2).T
        elif kind == "setitem":
            y = eager.logical_or(a, b) if is_bool else _clamp(a + b)
            y[..., :1] = eager.logical_not(y[..., :1]) if is_bool else y[..., :1] * 3
            out = y if is_bool else _clamp(y)
        else:  # "inplace"
            y = _clamp(a + b)
            y.mul_(2)
            y.sub_(a)
            out = _clamp(y)
        values.append(out)
    return values[-1]


@st.composite
def typed_programs(draw, dtypes=TYPED_DTYPES, max_len: int = 8):
    """(dtype, shapes, program): a dtype among `dtypes`, 1-3 input shapes broadcastable to
    one base shape, and instructions valid for that dtype."""
    dtype = draw(st.sampled_from(dtypes))
    family = _family(dtype)
    base = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=2)))
    shapes = [base]
    for _ in range(draw(st.integers(0, 2))):
        shapes.append(tuple(d if draw(st.booleans()) else 1 for d in base))
    program = []
    for _ in range(draw(st.integers(1, max_len))):
        refs = tuple(draw(st.integers(0, 50)) for _ in range(2))
        kind = draw(st.sampled_from(TYPED_KINDS[family]))
        if kind == "where":
            program.append((kind, refs, draw(st.sampled_from(COMPARISONS))))
        elif kind == "logical":
            program.append((kind, refs, draw(st.sampled_from(LOGICAL))))
        elif kind == "binary":
            program.append((kind, refs, draw(st.sampled_from(NUMERIC_BINARY))))
        elif kind == "unary":
            names = FLOAT16_UNARY if family == "float16" else INT_UNARY
            program.append((kind, refs, draw(st.sampled_from(names))))
        elif kind == "scalar":
            scales = [2.0, -0.5, 1.5] if family == "float16" else [2, -1, 3]
            program.append((kind, refs, draw(st.sampled_from(scales)),
                            draw(st.sampled_from([0, 1, -2]))))
        elif kind == "divmod":
            program.append((kind, refs, draw(st.sampled_from(["floor_divide", "remainder"]))))
        elif kind == "cast":
            program.append((kind, refs, draw(st.sampled_from(CAST_VIA[np.dtype(dtype).type]))))
        else:
            program.append((kind, refs))
    return dtype, shapes, program


def make_typed_inputs(dtype, shapes, seed):
    """Fresh random tensors of `dtype`: small integers, coin flips, or float16 in [-2, 2]."""
    rng = np.random.default_rng(seed)
    family = _family(dtype)
    if family == "int":
        arrays = [rng.integers(-5, 6, s) for s in shapes]
    elif family == "bool":
        arrays = [rng.random(s) < 0.5 for s in shapes]
    else:
        arrays = [rng.uniform(-2, 2, s) for s in shapes]
    return [eager.tensor(np.asarray(a).astype(dtype)) for a in arrays]

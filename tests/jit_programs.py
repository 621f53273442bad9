"""Hypothesis strategy for random eager programs, shared by the jit test files.

A program is a list of instructions over a growing list of tensors; `run_program`
executes it with eager ops, so the same program can run eagerly, traced and jitted.
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

"""`export_onnx(fn_or_module, example_args, path)`: the export's inference graph as ONNX.

The same graph `jit.export` compiles (traced, weights frozen, optimized by the @jit
passes) is written node by node; a fused `Kernel` contributes the primitive nodes of its
body (an ONNX runtime fuses on its own). Each primitive op maps to one or a few ONNX
operators (opset 17) in `TRANSLATIONS`; ops without a counterpart raise `ExportError`
naming the node. Weights become initializers. The model is checked with `onnx.checker`.
Needs the `onnx` package (`pip install eager-jit[export]`).

>>> OPSET >= 17, _UNARY["tanh"], _COMPARE["le"]
(True, 'Tanh', 'LessOrEqual')
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from jit.export.c_model import input_names
from jit.export.errors import ExportError, node_text
from jit.export.prepare import inference_graph
from kernels.dtypes import result_dtype
from tracer.graph import Graph, Node, Value

OPSET = 17
_UNARY = {"neg": "Neg", "exp": "Exp", "log": "Log", "sin": "Sin", "cos": "Cos",
          "tanh": "Tanh", "sqrt": "Sqrt", "abs": "Abs", "sign": "Sign", "floor": "Floor",
          "ceil": "Ceil", "sigmoid": "Sigmoid", "copy": "Identity"}
_ARITH = {"add": "Add", "sub": "Sub", "mul": "Mul", "div": "Div", "pow": "Pow",
          "maximum": "Max", "minimum": "Min"}
_COMPARE = {"eq": "Equal", "lt": "Less", "le": "LessOrEqual", "gt": "Greater",
            "ge": "GreaterOrEqual"}
_LOGICAL = {"logical_and": "And", "logical_or": "Or", "logical_xor": "Xor"}


class _Builder:
    """Collects ONNX nodes and initializers; names Values."""

    def __init__(self, onnx) -> None:
        self.onnx, self.helper = onnx, onnx.helper
        self.nodes: list = []
        self.initializers: list = []
        self.names: dict[int, str] = {}
        self.dtypes: dict[str, np.dtype] = {}
        self._count = 0

    def fresh(self, hint: str) -> str:
        self._count += 1
        return f"{hint}_{self._count}"

    def const(self, array: np.ndarray, hint: str = "c") -> str:
        name = self.fresh(hint)
        array = np.asarray(array)
        self.initializers.append(self.onnx.numpy_helper.from_array(array, name))
        self.dtypes[name] = array.dtype
        return name

    def op(self, op_type: str, inputs: list[str], dtype, **attrs) -> str:
        out = self.fresh(op_type.lower())
        self.nodes.append(self.helper.make_node(op_type, inputs, [out], **attrs))
        self.dtypes[out] = np.dtype(dtype)
        return out

    def operand(self, x: Any, dtype) -> str:
        """`x` (a Value or a Python scalar) as a tensor name of `dtype`."""
        dtype = np.dtype(dtype)
        if not isinstance(x, Value):
            return self.const(np.array(x, dtype))
        name = self.names[x.id]
        if self.dtypes[name] == dtype:
            return name
        return self.op("Cast", [name], dtype, to=self.tensor_type(dtype))

    def tensor_type(self, dtype) -> int:
        return self.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))


def _dtype_of(x: Any) -> Any:
    return x.dtype if isinstance(x, Value) else x


def _translate(b: _Builder, node: Node) -> str:
    """ONNX nodes computing `node`; returns the name holding its result."""
    name, xs, attrs, out = node.op.name, node.inputs, node.attrs, node.out
    if name in _UNARY:
        return b.op(_UNARY[name], [b.operand(xs[0], out.dtype)], out.dtype)
    if name == "cast":
        return b.operand(xs[0], out.dtype)
    if name == "logical_not":
        return b.op("Not", [b.operand(xs[0], np.bool_)], out.dtype)
    if name in _ARITH:
        return b.op(_ARITH[name], [b.operand(x, out.dtype) for x in xs], out.dtype)
    if name in _COMPARE or name == "ne":
        compute = result_dtype(*(_dtype_of(x) for x in xs))
        args = [b.operand(x, compute) for x in xs]
        if name == "ne":
            return b.op("Not", [b.op("Equal", args, np.bool_)], np.bool_)
        return b.op(_COMPARE[name], args, np.bool_)
    if name in _LOGICAL:
        return b.op(_LOGICAL[name], [b.operand(x, np.bool_) for x in xs], np.bool_)
    if name == "where":
        return b.op("Where", [b.operand(xs[0], np.bool_), b.operand(xs[1], out.dtype),
                              b.operand(xs[2], out.dtype)], out.dtype)
    if name == "matmul":
        return b.op("MatMul", [b.operand(x, out.dtype) for x in xs], out.dtype)
    if name in ("sum", "prod", "max", "min"):
        x = b.operand(xs[0], out.dtype)
        keep = int(bool(attrs.get("keepdims", False)))
        axes = [int(a) for a in attrs["axis"]]
        if not axes:
            return b.op("Identity", [x], out.dtype)
        if name == "sum":
            return b.op("ReduceSum", [x, b.const(np.array(axes, np.int64))], out.dtype,
                        keepdims=keep)
        return b.op({"prod": "ReduceProd", "max": "ReduceMax", "min": "ReduceMin"}[name],
                    [x], out.dtype, axes=axes, keepdims=keep)
    if name in ("argmax", "argmin"):
        x = b.names[xs[0].id]
        axis = attrs["axis"]
        if axis is None:
            x = b.op("Reshape", [x, b.const(np.array([-1], np.int64))], xs[0].dtype)
            axis = 0
        result = b.op("ArgMax" if name == "argmax" else "ArgMin", [x], np.int64, axis=axis,
                      keepdims=int(bool(attrs.get("keepdims", False))))
        return _reshape(b, result, out)
    if name in ("reshape", "slice", "flip"):
        x = b.names[xs[0].id]
        if name == "slice":
            x = _slice(b, x, xs[0], attrs["key"])
        elif name == "flip":
            axes = [a % len(xs[0].shape) for a in attrs["axes"]]
            x = b.op("Slice", [x, b.const(np.full(len(axes), -1, np.int64)),
                               b.const(np.full(len(axes), np.iinfo(np.int64).min, np.int64)),
                               b.const(np.array(axes, np.int64)),
                               b.const(np.full(len(axes), -1, np.int64))], out.dtype)
        return _reshape(b, x, out)
    if name == "permute":
        return b.op("Transpose", [b.names[xs[0].id]], out.dtype, perm=list(attrs["axes"]))
    if name == "expand":
        return b.op("Expand", [b.names[xs[0].id], b.const(np.array(out.shape, np.int64))],
                    out.dtype)
    if name == "pad":
        widths = attrs["widths"]
        pads = [lo for lo, _ in widths] + [hi for _, hi in widths]
        return b.op("Pad", [b.names[xs[0].id], b.const(np.array(pads, np.int64)),
                            b.const(np.array(attrs.get("value", 0), out.dtype))], out.dtype,
                    mode="constant")
    if name == "concat":
        return b.op("Concat", [b.operand(x, out.dtype) for x in xs], out.dtype,
                    axis=attrs["axis"])
    if name == "index":
        return _index(b, node)
    if name == "windows":
        return _windows(b, node)
    if name == "max_pool_blocks":
        kernel = list(attrs["kernel"])
        return b.op("MaxPool", [b.names[xs[0].id]], out.dtype, kernel_shape=kernel,
                    strides=kernel)
    if name == "gather":
        x, idx = xs
        axis = attrs["axis"] % len(x.shape)
        data = b.names[x.id]
        wanted = [n if d == axis else m for d, (n, m) in enumerate(zip(x.shape, idx.shape))]
        if list(x.shape) != wanted:
            data = b.op("Expand", [data, b.const(np.array(wanted, np.int64))], x.dtype)
        return b.op("GatherElements", [data, b.operand(idx, np.int64)], out.dtype, axis=axis)
    if name == "cumsum":
        return b.op("CumSum", [b.operand(xs[0], out.dtype),
                               b.const(np.array(attrs["axis"], np.int64))], out.dtype)
    raise ExportError(f"export_onnx: op {name!r} has no ONNX counterpart ({node_text(node)})")


def _reshape(b: _Builder, x: str, out: Value) -> str:
    return b.op("Reshape", [x, b.const(np.array(out.shape, np.int64))], out.dtype)


def _slice(b: _Builder, x: str, value: Value, key: tuple) -> str:
    """The basic slice `key` as one ONNX Slice (integers and None are left to the
    caller's final Reshape)."""
    starts, ends, axes, steps = [], [], [], []
    axis = 0
    for entry in key:
        if entry[0] == "n":
            continue
        dim = value.shape[axis]
        if entry[0] == "i":
            start, stop, step = entry[1] % dim, entry[1] % dim + 1, 1
        else:
            start, stop, step = slice(entry[1], entry[2], entry[3]).indices(dim)
            if step < 0 and stop < 0:
                stop = np.iinfo(np.int64).min   # "before index 0", which -1 would not say
        if (start, stop, step) != (0, dim, 1):
            starts.append(start)
            ends.append(stop)
            axes.append(axis)
            steps.append(step)
        axis += 1
    if not axes:
        return x
    return b.op("Slice", [x] + [b.const(np.array(v, np.int64)) for v in
                                (starts, ends, axes, steps)], value.dtype)


def _windows(b: _Builder, node: Node) -> str:
    """im2col as Pad, then one Gather over the flattened padded image with the window
    positions computed here (the shapes are static), then a Reshape to the layout."""
    x, out, attrs = node.inputs[0], node.out, node.attrs
    (ph, pw), (kh, kw) = attrs.get("padding", (0, 0)), attrs["kernel"]
    (sh, sw), (dh, dw) = attrs["stride"], attrs["dilation"]
    kernel_last = bool(attrs.get("kernel_last", False))
    oh, ow = out.shape[-4:-2] if kernel_last else out.shape[-2:]
    lead, wide = x.shape[:-2], x.shape[-1] + 2 * pw
    pads = [0] * len(lead) + [ph, pw] + [0] * len(lead) + [ph, pw]
    padded = b.op("Pad", [b.names[x.id], b.const(np.array(pads, np.int64)),
                          b.const(np.array(attrs.get("pad_value", 0.0), x.dtype))], x.dtype,
                  mode="constant")
    flat = b.op("Reshape", [padded, b.const(np.array(list(lead) + [-1], np.int64))], x.dtype)
    i, j, r, c = np.ix_(range(kh), range(kw), range(oh), range(ow))
    positions = (r * sh + i * dh) * wide + (c * sw + j * dw)
    if kernel_last:
        positions = positions.transpose(2, 3, 0, 1)
    picked = b.op("Gather", [flat, b.const(positions.astype(np.int64))], x.dtype,
                  axis=len(lead))
    return _reshape(b, picked, out)


def _index(b: _Builder, node: Node) -> str:
    """Integer-array indexing with one index array and full slices elsewhere: Gather."""
    key = node.attrs["key"]
    tensors = [j for j, e in enumerate(key) if e[0] == "t"]
    full = all(e == ("s", None, None, None) for e in key if e[0] != "t")
    if len(tensors) != 1 or not full:
        raise ExportError(f"export_onnx: indexing with key {key} has no ONNX counterpart "
                          f"(only one index array with full slices maps to Gather) in "
                          f"{node_text(node)}")
    idx = node.inputs[1 + key[tensors[0]][1]]
    return b.op("Gather", [b.names[node.inputs[0].id], b.operand(idx, np.int64)],
                node.out.dtype, axis=tensors[0])


def _emit(b: _Builder, graph: Graph) -> None:
    """Translate every node of `graph`, fused kernels' bodies inline."""
    for node in graph.nodes:
        if node.subgraphs:
            body = node.body
            for param, x in zip(body.inputs, node.inputs):
                b.names[param.id] = b.names[x.id]
            _emit(b, body)
            continue
        b.names[node.out.id] = _translate(b, node)


def to_onnx(graph: Graph, name: str = "model"):
    """The `onnx.ModelProto` for an inference graph (see `export_onnx`)."""
    try:
        import onnx
    except ImportError as exc:
        raise ExportError("export_onnx needs the onnx package: pip install "
                          "'eager-jit[export]'") from exc
    b = _Builder(onnx)
    helper = onnx.helper
    inputs = []
    for v, label in zip(graph.args, input_names(graph)):
        b.names[v.id] = label
        b.dtypes[label] = v.dtype
        inputs.append(helper.make_tensor_value_info(label, b.tensor_type(v.dtype),
                                                    list(v.shape)))
    for v in graph.consts:
        b.names[v.id] = b.const(np.asarray(v.data), "w")
    _emit(b, graph)
    outputs = []
    for k, v in enumerate(graph.output_values()):
        b.nodes.append(helper.make_node("Identity", [b.names[v.id]], [f"output{k}"]))
        outputs.append(helper.make_tensor_value_info(f"output{k}", b.tensor_type(v.dtype),
                                                     list(v.shape)))
    model = helper.make_model(
        helper.make_graph(b.nodes, name, inputs, outputs, b.initializers),
        opset_imports=[helper.make_opsetid("", OPSET)], producer_name="eager-jit")
    onnx.checker.check_model(model, full_check=True)
    return model


def export_onnx(fn_or_module: Callable, example_args: Sequence[Any] | Any, path: str) -> str:
    """Write `fn_or_module`'s inference graph at `example_args`' shapes as an ONNX file
    (opset 17), checked by `onnx.checker`; returns `path`.

    Raises `jit.ExportError` for what `jit.export` refuses (guards, write-backs, random
    ops) and for ops without an ONNX counterpart, naming the node.
    """
    graph = inference_graph(fn_or_module, example_args)
    model = to_onnx(graph, getattr(fn_or_module, "__qualname__", type(fn_or_module).__name__))
    with open(path, "wb") as f:
        f.write(model.SerializeToString())
    return path

"""A scripted call inside a trace: its nodes, control flow included, go into the outer
graph, so a model is traced everywhere but in its data-dependent part.

The script's graph is copied into the tracer's graph with fresh Values: its arguments
become the Values the tracer holds for the tensors passed, its bound state the tracer's
lookups of the same tensors, its constants constants of the outer graph, and the tensors
the call returned stand for the copied outputs.

>>> import eager, tracer
>>> from jit.script import script
>>> @script
... def halve(x):
...     while x.abs().max() > 1.0:
...         x = x * 0.5
...     return x
>>> g = tracer.trace(lambda x: halve(x * 2.0) + 1.0, eager.ones(2))
>>> [n.op.name for n in g.nodes]
['mul', 'while', 'add']
>>> g(eager.tensor([4., 1.])).tolist()
[2.0, 1.25]
"""
from __future__ import annotations

from typing import Any

from eager.tensor import Tensor
from tracer.control import If, While
from tracer.graph import Graph, Node, Value
from tracer.interpreter import Interpreter
from tracer.pytree import flatten
from tracer.subgraph import Kernel
from tracer.trace import Tracer


def record_call(tracer: Tracer, graph: Graph, args: list, result: Any) -> None:
    """Copy `graph` (a script's, called with `args`, giving `result`) into `tracer`."""
    target = tracer.graph
    mapping: dict[int, Value] = {}
    leaves = flatten((tuple(args), {}))[0]
    arg_leaves = flatten(graph.in_tree)[0]
    for leaf, v in zip(leaves, arg_leaves):
        if isinstance(v, Value) and type(leaf) is Tensor:
            mapping[id(v)] = tracer.lookup(leaf)
    for v in graph.inputs:
        if v.kind == "ref":
            mapping[id(v)] = tracer.lookup(v.ref)
        elif v.kind == "const":
            mapping[id(v)] = target.add_input("const", v.shape, v.dtype, v.device,
                                              data=v.data.copy(), label=v.label)
    target.nodes += _copy_nodes(graph.nodes, mapping, target)
    out_values = flatten(graph.outputs)[0]
    for tensor, v in zip(flatten(result)[0], out_values):
        if isinstance(v, Value) and type(tensor) is Tensor and v.kind == "node":
            tracer._set(tensor, mapping[id(v)], id(tensor))
    target.invalidate()


def _fresh(v: Value, target: Graph, kind: str = "node") -> Value:
    return target.new_value(v.shape, v.dtype, v.device, kind, label=v.label)


def _copy_graph(sub: Graph, mapping: dict, target: Graph) -> Graph:
    inputs = []
    for p in sub.inputs:
        mapping[id(p)] = _fresh(p, target, "arg")
        inputs.append(mapping[id(p)])
    nodes = _copy_nodes(sub.nodes, mapping, target)
    outputs = tuple(mapping[id(v)] for v in sub.outputs)
    return Graph(sub.name, inputs, nodes, outputs, in_tree=(tuple(inputs), {}))


def _copy_nodes(nodes: list, mapping: dict, target: Graph) -> list:
    copied = []
    for node in nodes:
        inputs = tuple(mapping[id(x)] if isinstance(x, Value) else x for x in node.inputs)
        if isinstance(node, (If, While)):
            subs = [_copy_graph(sub, mapping, target) for sub in node.subgraphs]
            outs = []
            for v in node.outs:
                mapping[id(v)] = _fresh(v, target)
                outs.append(mapping[id(v)])
            copied.append(type(node)(inputs, *subs, tuple(outs), node.where))
        elif isinstance(node, Kernel):
            body = _copy_graph(node.body, mapping, target)
            copied.append(Kernel(inputs, body, node.where))
        else:
            mapping[id(node.out)] = _fresh(node.out, target)
            copied.append(Node(node.op, inputs, dict(node.attrs), mapping[id(node.out)],
                               node.where))
    target.invalidate()
    return copied


def control_runner(graph: Graph, node: If | While):
    """A callable running one control-flow node of a jitted graph on arrays: its reads
    in, its outputs out (a list). One C call when the node compiles, else interpreted."""
    from jit.script.program import NotCompiled, Program

    params = [graph.new_value(x.shape, x.dtype, x.device, "arg") for x in node.inputs]
    alone = Graph("control", params, [node.with_inputs(tuple(params))], tuple(node.outs),
                  in_tree=(tuple(params), {}), _next_id=graph._next_id)
    try:
        program = Program(alone)
    except NotCompiled:
        program = None
    interpreter = Interpreter(alone)
    step = interpreter.plan.steps[0]
    template = interpreter.plan.node_template   # value slots, then the nodes' literals
    outs = [v.id for v in node.outs]

    def run(arrays: list) -> list:
        if program is not None:
            results = program(arrays)
            if results is not None:
                return [results[i] for i in outs]
        env = template.copy()
        for p, a in zip(params, arrays):
            env[p.id] = a
        interpreter.run_subgraph_node(step, env)
        return [env[i] for i in outs]
    run.compiled = program is not None
    return run

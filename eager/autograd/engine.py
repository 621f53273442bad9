"""Reverse-mode engine: walk recorded nodes in reverse topological order, apply rules.

The walk is iterative (no recursion), so a chain of 10,000 ops backpropagates fine.
"""
from __future__ import annotations

from collections.abc import Sequence

from eager import arguments
from eager.autograd import grad_mode
from eager.autograd import rules as _rules  # noqa: F401  (registers the backward rules)
from eager.autograd.node import Node
from eager.autograd.sum_to import sum_to
from eager.dispatch import apply
from eager.ops.elementwise import astype
from kernels import OPS
from kernels.errors import ArgumentError, AutogradError


def _topological_order(roots, outputs_alive: dict):
    """Nodes reachable from `roots`, each after every node that consumes its output.

    Fills outputs_alive with each node's output tensor, found among the inputs of the
    nodes that consume it: the rule may need it (nodes do not reference their outputs),
    and releasing a consumer drops its inputs.
    """
    order, visited = [], set()
    stack = [(node, False) for node in roots if node is not None]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if node in visited:
            continue
        visited.add(node)
        stack.append((node, True))
        if node.edges is None:
            continue
        for x, edge in zip(node.inputs, node.edges):
            if type(edge) is Node:
                outputs_alive[edge] = x
                if edge not in visited:
                    stack.append((edge, False))
    order.reverse()
    return order


def _check_arguments(op: str, outputs, grad_outputs) -> None:
    for i, out in enumerate(outputs):
        arguments.tensor(op, f"outputs[{i}]", out)
    if grad_outputs is None:
        return
    if len(grad_outputs) != len(outputs):
        raise ArgumentError(f"{op}: got {len(grad_outputs)} gradients for {len(outputs)} "
                            "outputs; pass one per output (None for a scalar)")
    name = "gradient" if op == "backward" else "grad_outputs"
    for g in grad_outputs:
        if g is not None:
            arguments.tensor(op, name, g)


def _root_gradients(outputs, grad_outputs):
    from eager.creation import ones_like

    grads = []
    for i, out in enumerate(outputs):
        if not out._requires_grad:
            raise AutogradError(f"backward: element {i} of the outputs does not require grad "
                                "and has no grad_fn; call requires_grad_() on an input first")
        g = None if grad_outputs is None else grad_outputs[i]
        if g is None:
            if out.size != 1:
                raise AutogradError(f"backward: grad can be implicitly created only for scalar "
                                    f"outputs, got shape {out.shape}; pass gradient=")
            g = ones_like(out)
        elif g.shape != out.shape:
            raise AutogradError(f"backward: gradient of shape {g.shape} does not match the "
                                f"output shape {out.shape}")
        grads.append(g)
    return grads


def _edge_of(x):
    """Where a gradient for tensor x goes: its node, x itself for a leaf, or None."""
    if x._node is not None:
        return x._node
    return x if x._requires_grad else None


def run(outputs: Sequence, grad_outputs, *, retain_graph: bool, create_graph: bool,
        inputs: Sequence | None = None):
    """Propagate gradients from outputs. With `inputs`, return their gradients instead of
    accumulating into `.grad` of leaves."""
    root_grads = _root_gradients(outputs, grad_outputs)
    node_grads: dict[Node, object] = {}
    wanted: dict | None = None
    if inputs is not None:
        wanted = {}
        for i, x in enumerate(inputs):
            wanted.setdefault(_edge_of(x), []).append(i)
    collected: list = [None] * (0 if inputs is None else len(inputs))
    handed_out: set[int] = set()
    plain = wanted is None  # no inputs= to collect: a node's gradient only accumulates

    def deliver(edge, g):
        if wanted is not None and edge in wanted:
            for i in wanted[edge]:
                collected[i] = g if collected[i] is None else collected[i] + g
        if type(edge) is Node:
            node_grads[edge] = g if edge not in node_grads else node_grads[edge] + g
        elif wanted is None:
            accumulate_leaf(edge, g, handed_out, create_graph)

    with grad_mode.set_grad_enabled(create_graph):
        for out, g in zip(outputs, root_grads):
            deliver(_edge_of(out), g)
        outputs_alive = {out._node: out for out in outputs if out._node is not None}
        order = _topological_order(list(outputs_alive), outputs_alive)
        pending = _pending_leaf_edges(order) if wanted is None and _grad_ready_hooks else None
        for node in order:
            edges = node.edges
            g = node_grads.pop(node, None)
            if g is None:
                if not retain_graph:
                    node.release()
                if pending:
                    _settle(edges, pending)
                continue
            op = node.op
            rule = op.backward
            if rule is None:
                raise AutogradError(f"{node.name}: op {op.name} has no backward rule")
            if edges is None:
                node.check_versions()  # released by an earlier backward: raises
            needs = [e is not None for e in edges]
            node._lent_out = outputs_alive.get(node)
            try:
                node.check_versions(op.saves, needs)
                input_grads = rule(node, g, needs)
            finally:
                node._lent_out = None
            for x, edge, gx in zip(node.inputs, edges, input_grads):
                if gx is not None and edge is not None:
                    data = x._data
                    if gx._data.shape != data.shape:
                        # Rules give gradients in the broadcast shape; one place sums them.
                        gx = sum_to(gx, x._data.shape)
                    if gx._data.dtype.kind == "c" and x._data.dtype.kind != "c":
                        # A real input of a complex result gets the real part (PyTorch).
                        gx = apply(OPS.real, gx)
                    if gx._data.dtype != x._data.dtype:
                        # A gradient has the dtype of its tensor (x * float64 gives
                        # float64 grads, but a float32 x gets a float32 one).
                        gx = astype(gx, data.dtype, copy=False)
                    if plain and type(edge) is Node:
                        earlier = node_grads.get(edge)
                        node_grads[edge] = gx if earlier is None else earlier + gx
                    else:
                        deliver(edge, gx)
            if not retain_graph:
                node.release()
            outputs_alive.pop(node, None)
            if pending:
                _settle(edges, pending)
        if wanted is None:
            for hook in tuple(_backward_end_hooks.values()):
                hook()
    return collected


# Gradient-ready hooks (what DistributedDataParallel starts its all-reduces from): id of
# a leaf -> fn(leaf), called once per backward when the last node that feeds the leaf has
# run, so its .grad is final; end hooks run when backward() is done.
_grad_ready_hooks: dict = {}
_backward_end_hooks: dict = {}


class HookHandle:
    """What a register_* function returns; `remove()` unregisters the hook."""

    def __init__(self, table: dict, key) -> None:
        self._table, self._key = table, key

    def remove(self) -> None:
        """Stop calling the hook."""
        self._table.pop(self._key, None)


def register_grad_ready_hook(leaf, fn) -> HookHandle:
    """Call fn(leaf) during backward() once leaf's .grad is final for this pass.

    >>> import eager
    >>> w = eager.tensor([1.0, 2.0], requires_grad=True)
    >>> seen = []
    >>> handle = register_grad_ready_hook(w, lambda t: seen.append(t.grad.tolist()))
    >>> (w * w + w).sum().backward(); handle.remove(); seen
    [[3.0, 5.0]]
    """
    _grad_ready_hooks[id(leaf)] = fn
    return HookHandle(_grad_ready_hooks, id(leaf))


def register_backward_end_hook(fn) -> HookHandle:
    """Call fn() at the end of every backward() (not of eager.grad()).

    >>> import eager
    >>> calls = []
    >>> handle = register_backward_end_hook(lambda: calls.append("done"))
    >>> eager.tensor(1.0, requires_grad=True).exp().backward(); handle.remove(); calls
    ['done']
    """
    key = object()
    _backward_end_hooks[key] = fn
    return HookHandle(_backward_end_hooks, key)


def _pending_leaf_edges(order) -> dict:
    """id(leaf) -> how many nodes of this pass feed it, for the leaves that have hooks."""
    pending: dict = {}
    for node in order:
        for edge in node.edges or ():
            key = id(edge)
            if key in _grad_ready_hooks:
                pending[key] = pending.get(key, 0) + 1
    return pending


def _settle(edges, pending: dict) -> None:
    for edge in edges or ():
        key = id(edge)
        if key in pending:
            pending[key] -= 1
            if not pending[key]:
                del pending[key]
                hook = _grad_ready_hooks.get(key)
                if hook is not None:
                    hook(edge)


def accumulate_leaf(leaf, g, handed_out: set, create_graph: bool) -> None:
    """leaf.grad += g, copying g when it is a view or already given to another leaf."""
    if not create_graph:
        g = g.detach() if g._node is not None else g
    if leaf._grad is None:
        if g._base is not None or id(g) in handed_out:
            g = g.clone()
        handed_out.add(id(g))
        leaf.grad = g
    else:
        leaf.grad = leaf._grad + g


def backward(outputs, grad_outputs=None, *, retain_graph: bool = False,
             create_graph: bool = False) -> None:
    """Accumulate gradients of `outputs` into the `.grad` of every leaf that requires grad.

    >>> import eager
    >>> from eager.autograd.engine import backward
    >>> x = eager.tensor([1.0, 2.0], requires_grad=True)
    >>> backward([(x * x).sum()]); x.grad
    tensor([2., 4.])
    """
    _check_arguments("backward", outputs, grad_outputs)
    run(outputs, grad_outputs, retain_graph=retain_graph or create_graph,
        create_graph=create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph: bool | None = None,
         create_graph: bool = False, allow_unused: bool = False):
    """Gradients of `outputs` with respect to `inputs`, returned as a tuple (PyTorch's
    `torch.autograd.grad`). With create_graph=True the result is differentiable again.

    >>> import eager
    >>> x = eager.tensor(2.0, requires_grad=True)
    >>> (dx,) = eager.grad(x ** 3, x, create_graph=True)
    >>> dx.item(), eager.grad(dx, x)[0].item()
    (12.0, 12.0)
    """
    single_out = not isinstance(outputs, (list, tuple))
    outputs = [outputs] if single_out else list(outputs)
    inputs = [inputs] if not isinstance(inputs, (list, tuple)) else list(inputs)
    if grad_outputs is not None and not isinstance(grad_outputs, (list, tuple)):
        grad_outputs = [grad_outputs]
    _check_arguments("grad", outputs, grad_outputs)
    for i, x in enumerate(inputs):
        if not arguments.tensor("grad", f"inputs[{i}]", x)._requires_grad:
            raise AutogradError(f"grad: input {i} of shape {x.shape} does not require grad")
    retain = create_graph if retain_graph is None else retain_graph
    result = run(outputs, grad_outputs, retain_graph=retain, create_graph=create_graph,
                 inputs=inputs)
    for i, g in enumerate(result):
        if g is None and not allow_unused:
            raise AutogradError(f"grad: input {i} of shape {inputs[i].shape} was not used to "
                                "compute the outputs; pass allow_unused=True to get None")
    if not create_graph:
        result = [None if g is None else g.detach() for g in result]
    return tuple(result)

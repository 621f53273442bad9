"""`jit.script`: compile a function's Python source, control flow included.

`script(fn)` parses the source once (syntax outside the subset is a ScriptError right
away); each new input signature (tensor shapes, dtypes and devices, the values of other
arguments) lowers the body to one Graph with `If`/`While` nodes (`jit.script.lower`) and
compiles it into one C call when every node has a C kernel (`jit.script.program`), else
runs it with the graph interpreter; `explain()` says which.

Calls with gradients needed run the graph through eager dispatch, so autograd records
the branch taken; a loop of straight-line code runs as one differentiable op whose
backward is loops too (`jit.script.backward`), other loops trip by trip. A call inside a
traced or jitted function becomes the control-flow nodes of the outer graph; with
gradients flowing through it, its loops and their backward loops are nodes of the
outer graph as well (one graph for every trip count), while a branch or a loop with
control flow inside is recorded as the path taken, with guards (the jit retraces when
the data takes another path).
"""
from __future__ import annotations

import ast
import builtins
import inspect
import textwrap
import weakref
from collections.abc import Callable
from typing import Any

from eager.interpreters import grad_enabled, replace_stack, stack
from eager.nn import Module
from eager.tensor import Tensor, wrap
from jit.script.errors import ScriptError, Source
from jit.script.regions import Region, ScriptTracer, renumber, stand_in
from tracer.errors import GuardFailure
from tracer.graph import Graph, walk
from tracer.interpreter import Interpreter
from tracer.trace import Tracer


class Script:
    """A parsed function: source, AST, and how its free names resolve."""

    def __init__(self, fn: Callable, owner: Any = None) -> None:
        self.fn, self.owner = fn, owner
        self.name = getattr(fn, "__name__", "script")
        try:
            lines, first = inspect.getsourcelines(fn)
            file = inspect.getsourcefile(fn) or "<unknown>"
        except (OSError, TypeError):
            raise ScriptError(f"script({self.name}): cannot read the source of "
                              f"{self.name}; define it in a file") from None
        text = "".join(lines)
        dedented = textwrap.dedent(text)
        indent = len(lines[0]) - len(lines[0].lstrip()) if lines else 0
        self.source = Source(file, first, dedented.splitlines(), indent)
        tree = ast.parse(dedented).body[0]
        if not isinstance(tree, ast.FunctionDef):
            raise self.source.error(tree, self.name, "only `def` functions can be scripted "
                                    "(not lambdas or async functions)")
        self.tree = tree
        args = tree.args
        if args.vararg or args.kwarg:
            raise self.source.error(tree, self.name,
                                    "`*args` / `**kwargs` parameters are not supported")
        _precheck(self)
        # Cells, not values: a closure variable may be assigned after the definition.
        self.cells = dict(zip(fn.__code__.co_freevars, fn.__closure__ or ()))
        self.signature = inspect.signature(fn)

    def resolve(self, name: str) -> tuple[bool, Any]:
        """(found, value) of a free name: closure, then globals, then builtins."""
        if name in self.cells:
            try:
                return True, self.cells[name].cell_contents
            except ValueError:   # an empty cell: assigned later, not yet
                return False, None
        if name in self.fn.__globals__:
            return True, self.fn.__globals__[name]
        if hasattr(builtins, name):
            return True, getattr(builtins, name)
        return False, None

    def bind(self, args: list, kwargs: dict) -> dict:
        """The parameters' values for a call (defaults filled in; `self` for a method)."""
        if self.owner is not None:
            args = [self.owner, *args]
        bound = self.signature.bind(*args, **kwargs)
        bound.apply_defaults()
        return dict(bound.arguments)


def _precheck(script: Script) -> None:
    """Refuse syntax outside the subset before any call (the lowerer checks the rest)."""
    from jit.script.exprs import _UNSUPPORTED
    from jit.script.lower import _UNSUPPORTED_STATEMENTS

    for node in ast.walk(script.tree):
        if node is script.tree:
            continue
        message = _UNSUPPORTED_STATEMENTS.get(type(node).__name__) or \
            _UNSUPPORTED.get(type(node).__name__)
        if message:
            raise script.source.error(node, script.name, message)


class Compiled:
    """One lowered signature: its graph, and the C program when there is one."""

    def __init__(self, graph: Graph) -> None:
        from jit.script.program import NotCompiled, Program

        self.graph = graph
        self.plan = graph.execution_plan()
        self.interpreter = Interpreter(graph)
        self.bound = [v.ref for v in graph.inputs if isinstance(v.ref, Tensor)]
        try:
            self.program: Any = Program(graph)
            self.reason = ""
        except NotCompiled as exc:
            self.program, self.reason = None, str(exc)
        self.direct = self.program is not None and not self.plan.has_state_in
        if self.direct:
            self._direct_plan()

    def _direct_plan(self) -> None:
        """What a direct call (no bound state, so no guards before the C call) needs:
        where each graph input comes from, and where each output goes."""
        leaf_of = {arg.slot: arg.leaf for arg in self.plan.args}
        self.sources = [leaf_of.get(v.id) for v in self.graph.inputs]
        self.consts = [v.data if v.kind == "const" else None for v in self.graph.inputs]
        self.direct = all(s is not None or c is not None
                          for s, c in zip(self.sources, self.consts))
        positions = {out[0]: k for k, out in enumerate(self.program.outputs)}
        entries = self.plan.out_entries
        # One returned tensor computed by the graph: wrap it without rebuilding a tree.
        self.single = positions[entries[0].value] if self.plan.out_tree.kind == "leaf" and \
            entries[0].kind == "value" else None

    def run(self, leaves: list) -> Any:
        """The outputs for argument leaves: the C program, else the interpreter."""
        if self.direct:
            arrays = [leaves[s]._data if s is not None else c
                      for s, c in zip(self.sources, self.consts)]
            results = self.program.run(arrays)
            if results is not None:
                if self.single is not None:
                    return wrap(results[self.single], "cpu")
                env = self.plan.template.copy()
                for out, array in zip(self.program.outputs, results):
                    env[out[0]] = array
                return self.plan.outputs(env, leaves)
        elif self.program is not None:
            env = self.plan.template.copy()
            for arg in self.plan.args:
                env[arg.slot] = leaves[arg.leaf]._data if arg.tensor else leaves[arg.leaf]
            self.plan.read_state(env, leaves)
            results = self.program([env[v.id] for v in self.graph.inputs])
            if results is not None:
                for vid, array in results.items():
                    env[vid] = array
                return self.plan.outputs(env, leaves)
        return self.interpreter.run(leaves)

    def run_differentiable(self, leaves: list) -> Any:
        """Through eager dispatch with gradients on: autograd records the path taken."""
        from jit.script.backward import ControlAsOps

        return ControlAsOps(self.graph, True).run(leaves)


class ScriptFunction:
    """A scripted function (see the module doc). Built by `jit.script(fn)`."""

    def __init__(self, fn: Callable, owner: Any = None) -> None:
        self.__script__ = Script(fn, owner)
        self.fn = fn
        self.__name__ = self.__script__.name
        self.__doc__ = getattr(fn, "__doc__", None)
        self.__wrapped__ = fn
        self._compiled: dict[tuple, Compiled] = {}
        self._per_instance: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self.compiles = 0
        self._arity = len(self.__script__.signature.parameters) - (owner is not None)

    # ---- calling --------------------------------------------------------------------
    def _arguments(self, args: tuple, kwargs: dict) -> tuple:
        script = self.__script__
        if kwargs or len(args) != len(script.signature.parameters) - (script.owner is not None):
            bound = script.bind(list(args), kwargs)
            values = tuple(bound.values())
            return values[1:] if script.owner is not None else values
        return args

    def _key(self, args: tuple) -> tuple:
        key = []
        for x in args:
            if type(x) is Tensor:
                data = x._data
                key.append((data.shape, data.dtype, x._device))
            else:
                try:
                    hash(x)
                except TypeError:
                    raise ScriptError(f"script({self.__name__}): argument {x!r} is neither a "
                                      "tensor nor hashable") from None
                key.append(("static", type(x), x))
        return tuple(key)

    def compiled_for(self, *args: Any, **kwargs: Any) -> bool:
        """Whether calls with these arguments' signature run as one C call."""
        return self._lowered(self._arguments(args, kwargs)).program is not None

    def _lowered(self, args: tuple) -> Compiled:
        key = self._key(args)
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = Compiled(self._lower(args))
            self.compiles += 1
        return compiled

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs or len(args) != self._arity:
            args = self._arguments(args, kwargs)
        compiled = self._compiled.get(self._key(args))
        if compiled is None:
            compiled = self._lowered(args)
        if not stack() and not (grad_enabled() and _wants_grad(args, compiled)):
            try:
                return compiled.run(args)
            except GuardFailure:
                return self._relower(args)
        try:
            return self._call(compiled, args)
        except GuardFailure:
            return self._relower(args)

    def _relower(self, args: tuple) -> Any:
        # State bound by reference (a module's parameter) changed shape or dtype: lower
        # again for the state as it is now.
        del self._compiled[self._key(args)]
        return self._call(self._lowered(args), args)

    def _call(self, compiled: Compiled, args: tuple) -> Any:
        hooks = stack()
        needs_grad = grad_enabled() and _wants_grad(args, compiled)
        if hooks and not needs_grad and all(isinstance(h, Tracer) for h in hooks):
            previous = replace_stack(None)
            try:
                result = compiled.run(list(args))
            finally:
                replace_stack(previous)
            from jit.script.embed import record_call

            for tracer in hooks:
                record_call(tracer, compiled.graph, list(args), result)
            return result
        if needs_grad or hooks:
            return compiled.run_differentiable(list(args))
        return compiled.run(list(args))

    # ---- introspection --------------------------------------------------------------
    def graph_for(self, *args: Any, **kwargs: Any) -> Graph:
        """The Graph (with its control-flow nodes) serving these arguments' signature."""
        return self._lowered(self._arguments(args, kwargs)).graph

    @property
    def graph(self) -> Graph:
        """The graph of the latest signature compiled (call the function first)."""
        if not self._compiled:
            raise ScriptError(f"script({self.__name__}): not called yet; the graph depends "
                              "on the input types (use graph_for(*args))")
        return list(self._compiled.values())[-1].graph

    def explain(self, *args: Any, **kwargs: Any) -> str:
        """What runs compiled for these arguments, and why not when it does not."""
        compiled = self._lowered(self._arguments(args, kwargs))
        graph = compiled.graph
        nodes = list(walk(graph))
        control = [n for n in nodes if n.op.name in ("if", "while")]
        counts = (f"  graph: {sum(1 for n in nodes if not n.subgraphs)} primitive nodes, "
                  f"{sum(n.op.name == 'while' for n in control)} loop(s), "
                  f"{sum(n.op.name == 'if' for n in control)} branch(es)")
        lines = [f"script({self.__name__}) for {graph.signature()}", counts]
        if compiled.program is not None:
            lines.append(f"  compiled: the whole graph runs as one C call "
                         f"({compiled.program.kernels} fused kernels inside C control flow, "
                         "no Python per loop trip)")
        else:
            lines.append(f"  interpreted: {compiled.reason}; loops run in Python, one "
                         "kernel call per node per trip")
        return "\n".join(lines)

    # ---- lowering -------------------------------------------------------------------
    def _lower(self, args: tuple) -> Graph:
        from jit.script.lower import Lowerer

        script = self.__script__
        previous = replace_stack(None)
        try:
            stands = tuple(stand_in(x) if type(x) is Tensor else x for x in args)
            lowerer = Lowerer(script, [])
            top = Region(lowerer, script.name, None, [])
            names = tuple(p for p in script.signature.parameters)
            names = names[1:] if script.owner is not None else names
            top.tracer.bind_arguments(stands, {}, names)
            lowerer.arguments = [x for x in stands if type(x) is Tensor]
            lowerer.device = next((x.device for x in lowerer.arguments), None)
            env = script.bind(list(stands), {})
            with top.active():
                result = lowerer.run_function(env)
            return _finish(top.tracer, result, lowerer)
        finally:
            replace_stack(previous)

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        bound = self._per_instance.get(instance)
        if bound is None:
            bound = self._per_instance[instance] = ScriptFunction(self.fn, instance)
        return bound

    def __repr__(self) -> str:
        return f"<jit.script of {self.__name__}>"


def _wants_grad(args: tuple, compiled: Compiled) -> bool:
    """Whether an argument or a tensor the graph binds requires gradients."""
    for x in args:
        if type(x) is Tensor and x._requires_grad:
            return True
    for t in compiled.bound:
        if t._requires_grad:
            return True
    return False


def _finish(tracer: ScriptTracer, result: Any, lowerer) -> Graph:
    from tracer.pytree import flatten, unflatten

    graph = tracer.graph
    leaves, tree = flatten(result)
    outs = []
    for leaf in leaves:
        if isinstance(leaf, Tensor):
            outs.append(tracer.lookup(leaf))
        elif leaf is None or isinstance(leaf, (bool, int, float, str)):
            outs.append(leaf)
        else:
            raise lowerer.error(f"returns {type(leaf).__name__}, which a graph cannot hold",
                                lowerer.script.tree)
    graph.outputs = unflatten(tree, outs)
    order = {"arg": 0, "ref": 1, "const": 2}
    graph.inputs.sort(key=lambda v: order[v.kind])
    renumber(graph)
    return graph.verify()


class ScriptModule(Module):
    """`jit.script(module)`: the module with `forward` scripted; its parameters and
    submodules are read by reference on every call."""

    def __init__(self, module: Module) -> None:
        super().__init__()
        self.module = module
        self.scripted = ScriptFunction(type(module).forward, module)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The scripted forward."""
        return self.scripted(*args, **kwargs)

    def explain(self, *args: Any, **kwargs: Any) -> str:
        """See `ScriptFunction.explain`."""
        return self.scripted.explain(*args, **kwargs)

    def graph_for(self, *args: Any, **kwargs: Any) -> Graph:
        """See `ScriptFunction.graph_for`."""
        return self.scripted.graph_for(*args, **kwargs)


def script(fn: Callable | Module) -> ScriptFunction | ScriptModule:
    """Compile `fn`'s source, data-dependent `if`/`while`/`for` included, into one graph.

    >>> import eager
    >>> @script
    ... def collatz_steps(n):
    ...     steps = 0
    ...     while n != 1:
    ...         n = eager.where(n % 2 == 0, n // 2, 3 * n + 1)
    ...         steps += 1
    ...     return steps
    >>> collatz_steps(eager.tensor(6)).item()
    8
    """
    if isinstance(fn, ScriptFunction):
        return fn
    if isinstance(fn, Module):
        return ScriptModule(fn)
    if not callable(fn):
        raise ScriptError(f"script: expected a function or Module, got {type(fn).__name__}")
    owner = getattr(fn, "__self__", None)
    if owner is not None:
        return ScriptFunction(fn.__func__, owner)
    return ScriptFunction(fn)

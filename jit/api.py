"""`@jit`: trace a function once per input signature, optimize and compile the graph,
replay it on later calls.

The first call with a new signature runs the function eagerly with the tracer listening
(the caller gets that eager result), then optimizes and compiles the graph. Later calls
whose cache key matches (tensor shapes/dtypes/devices/requires_grad, argument nesting,
grad mode, non-tensor argument values) and whose Python state matches (the globals,
closure values, `self` attributes, module modes and optimizer hyperparameters the code
reads: `jit.python_state`) replay the compiled graph. A failed guard (the Python code read
a tensor value that is now different) runs that call eagerly and traces another variant;
a host read that turns out to be data, not control flow (a logged loss), stops being
guarded (`jit.observe`). After `max_variants` variants the function stays eager and warns
once.

>>> import eager
>>> from jit import jit
>>> @jit
... def neuron(w, x, b):
...     return (w * x + b).tanh()
>>> w, x, b = eager.ones(3), eager.tensor([0., 1., 2.]), eager.zeros(3)
>>> [round(v, 4) for v in neuron(w, x, b).tolist()]
[0.0, 0.7616, 0.964]
>>> [round(v, 4) for v in neuron(w, x, b).tolist()]
[0.0, 0.7616, 0.964]
>>> neuron.cache_info().hits, neuron.cache_info().misses
(1, 1)
"""
from __future__ import annotations

import contextlib
import functools
import inspect
import logging
import os
import threading
import warnings
import weakref
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import numpy as np

from eager import arguments
from eager.interpreters import interpreting, jit_disabled_depth, listener, swap_jit_disabled
from eager.nn import Module
from eager.tensor import Tensor
from jit.executable import GuardFailed, Miss, ReplayError
from jit.observe import OBSERVABLE, Site, differing_reads, site_of, structure
from jit.passes import check_pass_names
from jit.python_state import PythonState
from jit.signature_key import _positional_trees, describe_change, make_key
from jit.variant import Variant
from kernels.errors import ArgumentError
from tracer.errors import TraceError
from tracer.graph import Graph
from tracer.pytree import flatten
from tracer.trace import Tracer

log = logging.getLogger("jit")
MAX_VARIANTS = 8

@contextlib.contextmanager
def disabled() -> Iterator[None]:
    """`with jit.disabled():` runs jitted functions eagerly in this thread (as does `JIT=0`
    in the environment, for every thread).

    >>> import eager
    >>> from jit import jit
    >>> f = jit(lambda x: x + 1)
    >>> with disabled():
    ...     _ = f(eager.ones(2))
    >>> f.cache_info().misses
    0
    """
    previous = swap_jit_disabled(jit_disabled_depth() + 1)
    try:
        yield
    finally:
        swap_jit_disabled(previous)


# Read once: os.environ lookups cost microseconds, a sizeable part of a small replay.
_ENV_ENABLED = os.environ.get("JIT", "1") != "0"


def jit_enabled() -> bool:
    """False inside `jit.disabled()` (in this thread) or when the process started with
    `JIT=0`.

    >>> with disabled():
    ...     print(jit_enabled())
    False
    """
    return jit_disabled_depth() == 0 and _ENV_ENABLED


class CacheInfo(NamedTuple):
    """Counters of a jitted function: replays (hits), traces (misses), compiled variants,
    calls run eagerly, and why each trace happened (one line each)."""

    hits: int
    misses: int
    variants: int
    eager_calls: int
    reasons: tuple[str, ...]


class JitCheckError(AssertionError):
    """`jit(check=True)`: the compiled replay disagreed with eager execution."""


def _positional_names(fn: Callable) -> tuple:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return ()
    return tuple(p.name for p in params
                 if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD))


class JitFunction:
    """A jitted callable (see module doc). Built by `jit(fn, ...)`."""

    def __init__(self, fn: Callable, *, static_argnames=(), disable=(), check: bool = False,
                 max_variants: int = MAX_VARIANTS) -> None:
        self.fn = fn
        self.static_argnames = (static_argnames,) if isinstance(static_argnames, str) \
            else tuple(static_argnames)
        self.disable = check_pass_names(disable)
        self.check = check
        self.max_variants = max_variants
        self.names = _positional_names(fn)
        self.__name__ = getattr(fn, "__name__", type(fn).__name__)
        self.__doc__ = getattr(fn, "__doc__", None)
        self.__wrapped__ = fn
        self._check_static_names()
        self._variants: dict[tuple, list[Variant]] = {}
        self._cache_lock = threading.Lock()
        self._last: tuple | None = None
        self._hits = self._misses = self._eager_calls = 0
        self._reasons: list[str] = []
        self._warned: set[str] = set()
        self._per_instance: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        owner = fn if isinstance(fn, Module) else getattr(fn, "__self__", None)
        self._module = owner if isinstance(owner, Module) else None
        # Globals and closure values the code reads (found at the first trace; None when
        # there are none), and why the function runs eagerly for good ("" while it does not).
        self._python_state: PythonState | None = None
        self._found_state = False
        self._always_eager = ""
        self._observed: set[Site] = set()   # host-read sites found to be data (jit.observe)

    def _with_module_mode(self, key: tuple) -> tuple:
        """For `jit(module)` and module methods: train()/eval() changes what forward does
        (dropout), so the modules' training flags are part of the key."""
        return key + (tuple(m.training for m in self._module.modules()),)

    def _check_static_names(self) -> None:
        try:
            params = inspect.signature(self.fn).parameters
        except (TypeError, ValueError):
            return
        unknown = [n for n in self.static_argnames if n not in params]
        if unknown:
            raise ArgumentError(f"jit({self.__name__}): static_argnames {unknown} are not "
                                f"parameters of {self.__name__}{tuple(params)}")

    # ---- calling --------------------------------------------------------------------
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if listener() is not None or jit_disabled_depth() or not _ENV_ENABLED:
            return self.fn(*args, **kwargs)  # eager; inside an outer trace this inlines
        if self._always_eager:
            self._eager_calls += 1
            return self.fn(*args, **kwargs)
        key = make_key(args, kwargs, self.names)
        if self._module is not None:
            key = self._with_module_mode(key)
        variants = self._variants.get(key)
        failure = failed = None
        changed = ""
        if variants is not None:
            leaves = args if not kwargs and key[1] is _positional_trees.get(len(args)) \
                else flatten((args, kwargs))[0]
            state = None if self._python_state is None else self._python_state.read()
            for variant in variants:
                if state is not None:
                    try:   # `_same_state`, inline: this runs on every call
                        same = variant.python_state == state
                    except (TypeError, ValueError):
                        same = False
                    if not same:
                        changed = self._python_state.describe(variant.python_state, state)
                        continue
                if variant.captured_args and not variant.same_captured_args(leaves):
                    changed = "an argument is not the captured tensor it was when traced"
                    continue
                outcome = variant.run(leaves) if variant.plain \
                    else variant.replay(leaves, args, kwargs, self.__name__)
                if not isinstance(outcome, Miss):   # a hit: the outcome is the result
                    self._hits += 1
                    return outcome
                match outcome:
                    case GuardFailed(failure=failure):
                        failed = variant
                        continue
                    case ReplayError(error=error):
                        return self._replay_failed(error, args, kwargs)
                    case _:  # Busy, or RunEagerly
                        self._eager_calls += 1
                        return self.fn(*args, **kwargs)
        self._check_static_args(args, kwargs)
        if failure is not None:
            reason = failure.reason
        elif changed:
            reason = changed
        elif self._last is None:
            reason = "first call"
        else:
            reason = describe_change(self._last, key, args, kwargs, self.names)
        self._last = key
        return self._trace(key, args, kwargs, reason,
                           None if failure is None else (failed, failure))

    def _replay_failed(self, exc: Exception, args: tuple, kwargs: dict) -> Any:
        """A kernel raised during replay (say, an index out of range): nothing has been
        written back yet, so run the call eagerly; its error names the op and the user's
        line. If eager succeeds, the replay was wrong: warn, and return the eager result."""
        self._eager_calls += 1
        result = self.fn(*args, **kwargs)
        self._warn_once("replay", f"jit({self.__name__}): a replay failed with "
                        f"{type(exc).__name__}: {exc}, but eager execution succeeded; "
                        "returning the eager result. Please report this as a bug.")
        return result

    def _check_static_args(self, args: tuple, kwargs: dict) -> None:
        if not self.static_argnames:
            return
        bound = inspect.signature(self.fn).bind_partial(*args, **kwargs).arguments
        for name in self.static_argnames:
            if any(type(x) is Tensor for x in flatten(bound.get(name))[0]):
                raise TypeError(f"jit({self.__name__}): static argument {name!r} is a tensor; "
                                "static arguments are baked into the compiled graph, so pass "
                                "a Python value, or drop it from static_argnames")

    def _trace(self, key: tuple, args: tuple, kwargs: dict, reason: str,
               failed: tuple | None = None) -> Any:
        """Trace a new variant; `failed` is (variant, GuardFailure) when a guard failed."""
        with self._cache_lock:   # another thread may be adding a variant
            count = sum(len(v) for v in self._variants.values())
        if count >= self.max_variants:
            self._warn_once("variants", f"jit({self.__name__}): {count} variants compiled; "
                            f"the last retrace was because {reason}. Running eagerly from now "
                            "on for new signatures. Mark arguments that change as "
                            "static_argnames, keep shapes fixed, or use jit.script for "
                            "value-dependent control flow.")
            self._eager_calls += 1
            return self.fn(*args, **kwargs)
        tracer = Tracer(self.__name__)
        try:
            tracer.bind_arguments(args, kwargs, self.names)
        except TraceError as exc:
            self._warn_once("bind", f"jit({self.__name__}): cannot trace this call ({exc}); "
                            "running it eagerly")
            self._eager_calls += 1
            return self.fn(*args, **kwargs)
        self._misses += 1
        if reason != "first call":
            log.info("jit(%s): retracing because %s", self.__name__, reason)
        self._reasons.append(reason)
        probes = self._probes()
        if probes is not None and probes.random_calls:
            self._always_eager = (f"it draws Python random numbers "
                                  f"({', '.join(probes.random_calls)}), which a replay would "
                                  "repeat")
            self._warn_once("python random", f"jit({self.__name__}): {self._always_eager}; "
                            "running it eagerly. Draw with eager.rand/randn/randint (fresh "
                            "numbers on every replay) to keep it compiled.")
            self._eager_calls += 1
            return self.fn(*args, **kwargs)
        before = None if probes is None else probes.read()
        with interpreting(tracer):
            result = self.fn(*args, **kwargs)
        if probes is not None:
            after = probes.read()
            sinks = [] if _same_state(before, after) else probes.changed_sinks(before, after)
            if sinks:
                before = self._drop_probes(sinks, before)
            elif sinks is None:
                # A replay would not repeat the function's own update of Python state it
                # reads (`total += loss.item()`, a call counter): eager is the only faithful
                # way to run it.
                self._always_eager = (f"it changes Python state it reads "
                                      f"({probes.describe(before, after)})")
                self._warn_once("python state", f"jit({self.__name__}): "
                                f"{self._always_eager}, which a replay would not repeat; "
                                "running it eagerly from now on. Keep such state in a tensor "
                                "(updated in place) or outside the jitted function.")
                return result
        try:
            graph = tracer.finish(result)
        except TraceError as exc:
            # The call ran (eagerly, while tracing) and its result is right; only the graph
            # is refused (inputs that overlap through views made outside): serve it as is.
            self._warn_once("finish", f"jit({self.__name__}): this call cannot be compiled "
                            f"({exc}); it ran eagerly")
            self._eager_calls += 1
            return result
        variant = Variant(graph, fn=self.fn, python_state=before,
                          read_outputs=tracer.read_outputs,
                          ambiguous_reads=tracer.ambiguous_reads,
                          captured_args=_captured_args(self._python_state, before, args,
                                                       kwargs))
        superseded = None if failed is None else self._observation(variant, *failed)
        if tracer.unreplayable:
            variant.eager_reason = "; ".join(tracer.unreplayable)
            self._warn_once("unreplayable", f"jit({self.__name__}): {variant.eager_reason}; "
                            "this signature runs eagerly.")
        else:
            self._compile(variant, result)
        with self._cache_lock:
            # Racing first calls trace at once, each in its own thread: keep one variant
            # per outcome of the guards, so the cache does not fill with copies.
            variants = self._variants.setdefault(key, [])
            if superseded in variants:
                variants.remove(superseded)
            if not any(_same_guards(v.traced, variant.traced)
                       and _same_state(v.python_state, variant.python_state)
                       and v.captured_ids() == variant.captured_ids() for v in variants):
                variants.append(variant)
        return result

    def _observation(self, variant: Variant, old: Variant, failure) -> Variant | None:
        """When the retrace after `failure` recorded what `old` did, except the value the
        failed read gave, that read is data (a log line, a returned loss), not control
        flow: stop guarding it (`jit.observe`) and return `old`, which `variant` replaces."""
        if failure.kind not in OBSERVABLE:
            return None
        sites = differing_reads(old.traced, variant.traced)
        if site_of(failure.guard) not in sites or any(
                s[0] not in OBSERVABLE or s in variant.ambiguous_reads
                or s in old.ambiguous_reads for s in sites):
            return None
        ignore = self._observed | sites
        if structure(variant.traced, ignore, variant.read_outputs) != \
                structure(old.traced, ignore, old.read_outputs):
            return None
        self._observed |= sites
        lines = ", ".join(f"{kind}() at {where or 'an unknown line'}"
                          for kind, where in sorted(sites))
        self._warn_once(f"observe {sorted(sites)}", f"jit({self.__name__}): the host read(s) "
                        f"{lines} give a new value on every call, and no tensor op depends on "
                        "them: they are no longer guarded (the function stays compiled). "
                        "Python code that uses such a value (print, logging) runs only while "
                        "tracing; return the tensor to see it on every call.")
        return old

    def _drop_probes(self, dropped: list[int], before: tuple) -> tuple:
        """Stop guarding containers the function itself changes (a list it appends to:
        its contents then stay as traced, as before they were guarded); returns `before`
        as the remaining probes read it."""
        state = self._python_state
        with self._cache_lock:
            for variants in self._variants.values():
                for v in variants:
                    v.python_state = state.project(v.python_state, dropped)
            self._python_state = state.without(dropped)
        return state.project(before, dropped)

    def _probes(self) -> PythonState | None:
        """The function's Python-state probes, found once (at the first trace, when
        closure cells are assigned)."""
        if not self._found_state:
            # Flag last: a thread racing this first trace then finds the same probes.
            state = PythonState.of(self.fn)
            self._python_state = state if state else None
            self._found_state = True
        return self._python_state

    def _compile(self, variant: Variant, result: Any) -> None:
        graph = variant.traced
        needs_autograd = any(_has_live_history(x) for x in flatten(result)[0])
        ran_backward = any(wb.slot == "grad" for wb in graph.writebacks)
        if needs_autograd and not ran_backward:
            variant.eager_reason = ("it returns tensors that require grad, and a replay "
                                    "cannot give them autograd history")
            self._warn_once("autograd", f"jit({self.__name__}): {variant.eager_reason}; this "
                            "signature runs eagerly. Call backward() inside the jitted "
                            "function (a whole training step) or call it under "
                            "eager.no_grad().")
            return
        try:
            variant.compile(self.disable, self.check, self._observed)
        except Exception as exc:  # noqa: BLE001  (the caller already has the eager result)
            variant.eager_reason = f"compiling failed ({type(exc).__name__}: {exc})"
            self._warn_once("compile", f"jit({self.__name__}): {variant.eager_reason}; this "
                            "signature runs eagerly. Please report this as a bug.")

    def _warn_once(self, topic: str, message: str) -> None:
        if topic not in self._warned:
            self._warned.add(topic)
            warnings.warn(message, RuntimeWarning, stacklevel=4)

    # ---- methods and modules --------------------------------------------------------
    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        bound = self._per_instance.get(instance)
        if bound is None:
            bound = JitFunction(self.fn.__get__(instance, owner),
                                static_argnames=self.static_argnames, disable=self.disable,
                                check=self.check, max_variants=self.max_variants)
            self._per_instance[instance] = bound
        return bound

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name in ("fn",):
            raise AttributeError(name)
        return getattr(self.fn, name)  # jit(model).parameters(), .train(), ...

    # ---- introspection --------------------------------------------------------------
    def cache_info(self) -> CacheInfo:
        """Hits, misses, variants, eager calls and the reason for each trace."""
        with self._cache_lock:
            variants = sum(1 for vs in self._variants.values() for v in vs if v.executable)
        return CacheInfo(self._hits, self._misses, variants, self._eager_calls,
                         tuple(self._reasons))

    def _variant_for(self, args: tuple, kwargs: dict) -> Variant:
        key = make_key(args, kwargs, self.names)
        if self._module is not None:
            key = self._with_module_mode(key)
        if key not in self._variants:
            self(*args, **kwargs)
        if key not in self._variants:
            raise RuntimeError(f"jit({self.__name__}): this call runs eagerly (jit disabled, "
                               "too many variants, or the arguments cannot be traced)")
        return self._variants[key][-1]

    def graph_for(self, *args: Any, **kwargs: Any) -> Graph:
        """The optimized Graph serving these arguments' signature (traces, running fn once,
        if new). When guards split one signature into several variants, this is the newest;
        `explain` lists why each was traced."""
        variant = self._variant_for(args, kwargs)
        return variant.graph if variant.graph is not None else variant.traced

    def explain(self, *args: Any, **kwargs: Any) -> str:
        """What the passes did for these arguments: node counts, fused groups, kernels,
        buffer bytes, and the reasons for every trace so far."""
        variant = self._variant_for(args, kwargs)
        lines = [f"jit({self.__name__}) for {variant.traced.signature()}"]
        lines += [f"  trace {i + 1}: {r}" for i, r in enumerate(self._reasons)]
        if variant.executable is None:
            lines.append(f"  runs eagerly: {variant.eager_reason}")
            return "\n".join(lines)
        lines.append(f"  traced graph: {len(variant.traced.nodes)} nodes")
        lines += [f"  {r}" for r in variant.report]
        exe = variant.executable
        plan = exe.buffers
        lines.append(f"  kernels per call: {exe.kernel_launches} ({exe.fused_kernels} fused, "
                     f"{sum(1 for k in exe.cpu_kernels if k.compiled)} compiled to C)")
        lines.append(f"  intermediate buffers: {plan.bytes_before} bytes without reuse -> "
                     f"{plan.bytes_after} bytes with reuse ({len(plan.slot_bytes)} buffers)")
        lines.append(f"  updates written in place into bound tensors: {len(exe.in_place)}")
        lines.append(f"  compile time: {variant.compile_seconds * 1e3:.1f} ms")
        return "\n".join(lines)


def _has_live_history(x: Any) -> bool:
    """Whether a result needs autograd history a replay cannot give it: a tensor that
    requires grad, unless `backward()` inside the step already released its graph (the
    loss of a training step that ends with `zero_grad(set_to_none=True)`), after which
    eager could not backward through it again either."""
    if type(x) is not Tensor or not x._requires_grad:
        return False
    return x._node is None or x._node.inputs is not None


def _captured_args(probes: PythonState | None, reading: tuple | None, args: tuple,
                   kwargs: dict) -> tuple:
    """The (leaf index, tensor) of each tensor argument that the function can also reach
    from its Python state: the trace cannot tell the two paths apart, so the graph is
    right only for calls that pass that same tensor there again."""
    if probes is None or reading is None:
        return ()
    reachable = probes.tensor_ids(reading)
    return tuple((i, leaf) for i, leaf in enumerate(flatten((args, kwargs))[0])
                 if type(leaf) is Tensor and id(leaf) in reachable)


def _same_state(a: tuple | None, b: tuple | None) -> bool:
    """Whether two readings of the Python state are equal (values that refuse `==` with a
    truth value, such as arrays a global was rebound to, count as changed)."""
    try:
        return a == b
    except (TypeError, ValueError):
        return False


def _same_guards(a: Graph, b: Graph) -> bool:
    """Whether two traces of one signature read the same host values at the same points
    (then they serve exactly the same calls)."""
    return len(a.guards) == len(b.guards) and all(
        x.value.id == y.value.id and x.kind == y.kind and x.where == y.where
        and np.array_equal(x.expected, y.expected) for x, y in zip(a.guards, b.guards))


def jit(fn: Callable | None = None, *, static_argnames=(), disable=(), check: bool = False,
        max_variants: int = MAX_VARIANTS):
    """Compile `fn` (a function, method or `eager.nn.Module`) on its first call per signature.

    `@jit`, `@jit(static_argnames=("n",))`, `jit(model)`. `disable` names passes to skip
    (see `jit.passes`); `check=True` also runs eagerly for the first replays and compares.

    >>> import eager
    >>> f = jit(lambda x, n: x * n, static_argnames=("n",))
    >>> f(eager.ones(2), 3).tolist()
    [3.0, 3.0]
    """
    static_argnames = arguments.names("jit", "static_argnames", static_argnames)
    disable = arguments.names("jit", "disable", disable)
    try:
        check_pass_names(disable)
    except ValueError as exc:
        raise ArgumentError(f"jit: disable: {exc}") from None
    max_variants = arguments.integer("jit", "max_variants", max_variants, minimum=1)
    if fn is None:
        return functools.partial(jit, static_argnames=static_argnames, disable=disable,
                                 check=check, max_variants=max_variants)
    if not callable(fn):
        raise ArgumentError(f"jit: expected a function, method or Module to compile, got "
                            f"{type(fn).__name__} (not callable)")
    return JitFunction(fn, static_argnames=static_argnames, disable=disable, check=check,
                       max_variants=max_variants)

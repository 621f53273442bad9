"""tracer: deferred execution. Run eager code once under a hook on the single dispatch
point and get a static `Graph` you can print, verify, replay with the same kernels, and
draw; or build an expression from `Placeholder`s that computes nothing until called.

>>> import eager, tracer
>>> a = tracer.Placeholder("a"); b = tracer.Placeholder("b")
>>> c = (a**2 + b**2) ** 0.5
>>> callable(c), c(3, 4)
(True, 5.0)
"""
from tracer.errors import GraphError, GraphvizNotFound, GuardFailure, SignatureError, TraceError
from tracer.graph import GradOf, Graph, Guard, Node, Value, WriteBack, walk
from tracer.interpreter import Interpreter
from tracer.plan import ExecutionPlan
from tracer.subgraph import Kernel
from tracer.trace import Tracer, trace

__all__ = [
    "ExecutionPlan",
    "Expr",
    "GradOf",
    "Graph",
    "GraphError",
    "GraphvizNotFound",
    "Guard",
    "GuardFailure",
    "InputParameterPlaceholder",
    "Interpreter",
    "Kernel",
    "Node",
    "Placeholder",
    "SignatureError",
    "TraceError",
    "Tracer",
    "Value",
    "WriteBack",
    "trace",
    "walk",
]


def __getattr__(name):
    if name in ("Placeholder", "InputParameterPlaceholder", "Expr"):
        from tracer import placeholder

        return getattr(placeholder, name)
    raise AttributeError(f"module 'tracer' has no attribute {name!r}")

"""The runnable examples in the tracer's docstrings are part of its specification."""
import doctest
import importlib

import pytest

MODULES = ["tracer", "tracer.graph", "tracer.trace", "tracer.interpreter", "tracer.nested",
           "tracer.placeholder", "tracer.picture", "tracer.pytree", "tracer.signature",
           "tracer.source", "tracer.errors", "eager.autograd.picture"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0

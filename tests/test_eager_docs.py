"""The examples in the eager and kernels docstrings run and print what they show."""
import doctest
import importlib

import pytest

MODULES = [
    "kernels", "kernels.dtypes", "kernels.errors", "kernels.opdef", "kernels.shapes",
    "kernels.backend", "kernels.movement", "kernels.indexing", "eager", "eager.dispatch",
    "eager.tensor",
    "eager.dtypes", "eager.creation", "eager.device", "eager.random", "eager.ops.elementwise",
    "eager.ops.reductions", "eager.ops.shape", "eager.ops.indexing", "eager.ops.ordering",
    "eager.ops.linalg", "eager.autograd.grad_mode", "eager.autograd.engine",
    "eager.autograd.gradcheck", "eager.autograd.node", "eager.autograd.rules",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0

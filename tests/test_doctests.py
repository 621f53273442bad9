"""Every docstring example in the four packages runs and prints what it shows.

Modules are discovered, so a new module's examples are tested without editing this file.
Modules that only register table entries or glue others together may have none.
"""
import doctest
import importlib
import pkgutil

import pytest

PACKAGES = ["kernels", "eager", "tracer", "jit"]
WITHOUT_EXAMPLES = {
    "kernels.elementwise", "kernels.linalg", "kernels.ordering", "kernels.random",
    "kernels.reductions", "kernels.sources", "eager.autograd", "eager.ops",
    "eager.ops.inplace", "eager.ops.operands", "eager.tensor_methods", "jit.check",
    "jit.variant",
}


def _modules():
    names = []
    for package in PACKAGES:
        root = importlib.import_module(package)
        names.append(package)
        names.extend(info.name for info in pkgutil.walk_packages(root.__path__, package + "."))
    return sorted(names)


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS, report=False)
    assert result.failed == 0, f"{name}: {result.failed} docstring examples failed"
    if name not in WITHOUT_EXAMPLES:
        assert result.attempted > 0, f"{name} has no runnable examples"

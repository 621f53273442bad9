"""Shared test setup: the `gpu` marker skips cleanly without cupy and a GPU."""
import os

import pytest
from hypothesis import settings

settings.register_profile("ci", max_examples=40, deadline=None)
settings.register_profile("dev", max_examples=25, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


def pytest_collection_modifyitems(config, items):
    from kernels import cupy_available

    if cupy_available():
        return
    skip = pytest.mark.skip(reason="needs cupy and a visible CUDA GPU")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)

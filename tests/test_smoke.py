"""The README example and the neuron script work end to end."""
import subprocess
import sys
from pathlib import Path

import numpy as np

import eager


def test_readme_example_gradient_matches_formula():
    x = eager.tensor([[1., 2.], [3., 4.]], requires_grad=True)
    y = (x * x + 1).tanh().sum()
    y.backward()
    xv = np.array([[1., 2.], [3., 4.]], dtype=np.float32)
    expected = (1 - np.tanh(xv * xv + 1) ** 2) * 2 * xv
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-5, atol=1e-6)


def test_neuron_example_learns_the_target():
    script = Path(__file__).parent.parent / "examples" / "neuron.py"
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         check=True).stdout
    assert "learned w, b = 1.49" in out or "learned w, b = 1.5" in out

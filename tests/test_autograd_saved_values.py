"""The engine works out once per (rule, which inputs want a gradient, arity) which saved
values a rule reads (eager/autograd/node.py); each combination still checks exactly
those values for in-place changes."""
import pytest

import eager


def test_each_needs_pattern_checks_its_own_saved_values():
    for _ in range(2):  # the second round runs on the cached positions
        a = eager.tensor([1.0, 2.0], requires_grad=True)
        b = eager.tensor([3.0, 4.0])
        out = a * b            # a's gradient reads b
        with eager.no_grad():
            b += 1
        with pytest.raises(eager.AutogradError, match="input 1"):
            out.sum().backward()

        a = eager.tensor([1.0, 2.0])
        b = eager.tensor([3.0, 4.0], requires_grad=True)
        out = a * b            # b's gradient reads a; b itself is not read
        with eager.no_grad():
            b += 1
        out.sum().backward()
        assert b.grad.tolist() == [1.0, 2.0]


def test_output_reads_are_checked():
    x = eager.tensor([0.5, 1.0], requires_grad=True)
    y = x.exp()                # exp's gradient reads its output
    z = y * 1.0
    with eager.no_grad():
        y.mul_(2)
    with pytest.raises(eager.AutogradError, match="its output"):
        z.sum().backward()

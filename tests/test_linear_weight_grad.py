"""The gradient of a matmul whose right operand is a transposed view (Linear's x @ W.T)
is computed in that view's layout; values, complex conjugation and second order are as
for any other operand."""
import numpy as np

import eager
import eager.nn.functional as F
from eager.autograd import gradcheck

rng = np.random.default_rng(5)


def test_weight_gradient_of_a_transposed_view_matches_numpy():
    x = rng.standard_normal((4, 6))
    w = rng.standard_normal((3, 6))
    weight = eager.tensor(w, dtype=eager.float64, requires_grad=True)
    y = eager.tensor(x, dtype=eager.float64) @ weight.T
    (y * y).sum().backward()
    np.testing.assert_allclose(weight.grad.numpy(), 2 * (x @ w.T).T @ x, rtol=1e-12)


def test_linear_gradients_match_finite_differences_to_second_order():
    x = eager.tensor(rng.standard_normal((4, 6)), dtype=eager.float64, requires_grad=True)
    w = eager.tensor(rng.standard_normal((3, 6)), dtype=eager.float64, requires_grad=True)
    b = eager.tensor(rng.standard_normal(3), dtype=eager.float64, requires_grad=True)
    assert gradcheck(lambda x, w, b: F.linear(x, w, b), [x, w, b])

    def weight_grad(x, w):
        (g,) = eager.grad((F.linear(x, w) ** 2).sum(), [w], create_graph=True)
        return g

    assert gradcheck(weight_grad, [x, w])


def test_complex_weight_gradient_is_conjugated_as_for_a_plain_operand():
    x = rng.standard_normal((2, 3)) + 1j * rng.standard_normal((2, 3))
    w = rng.standard_normal((4, 3)) + 1j * rng.standard_normal((4, 3))
    grads = []
    for view in (True, False):
        weight = eager.tensor(w.T.copy() if not view else w, requires_grad=True)
        right = weight.T if view else weight
        y = eager.tensor(x) @ right
        eager.real(y * y.conj()).sum().backward()
        grads.append(weight.grad.numpy().T if view else weight.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12)

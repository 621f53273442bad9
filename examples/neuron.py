"""Train one neuron, o = tanh(w*x + b), by gradient descent and print the loss falling.

Run: python examples/neuron.py
"""
import eager


def main(steps: int = 200, lr: float = 0.5) -> None:
    eager.manual_seed(0)
    x = eager.linspace(-2.0, 2.0, 64)
    target = (1.5 * x - 0.5).tanh()
    w = eager.zeros((), requires_grad=True)
    b = eager.zeros((), requires_grad=True)
    for step in range(steps + 1):
        o = (w * x + b).tanh()
        loss = ((o - target) ** 2).mean()
        loss.backward()
        with eager.no_grad():
            w -= lr * w.grad
            b -= lr * b.grad
        w.grad = None
        b.grad = None
        if step % 25 == 0:
            print(f"step {step:4d}  loss {loss.item():.6f}  w {w.item():+.4f}  b {b.item():+.4f}")
    print("learned w, b =", round(w.item(), 3), round(b.item(), 3), "(target 1.5, -0.5)")


if __name__ == "__main__":
    main()

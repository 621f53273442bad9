"""nn layers are composites of eager ops: a traced training step of a model using every
layer (conv, pool, layer norm, dropout) replays exactly what eager mode computes."""
import numpy as np

import eager
import eager.nn.functional as F
import tracer
from eager import nn, optim


def build():
    eager.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 4, 3, stride=2, padding=1), nn.Tanh(), nn.Flatten(),
        nn.LayerNorm(16), nn.Dropout(0.2), nn.Linear(16, 3))
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True)

    def step(x, y):
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        opt.zero_grad()
        return loss.detach()
    return model, step


def test_traced_cnn_step_with_dropout_replays_eager_exactly():
    eager.manual_seed(5)
    batches = [(eager.randn(5, 1, 8, 8), eager.randint(0, 3, (5,))) for _ in range(4)]
    eager_model, eager_step = build()
    expected = [eager_step(x, y).item() for x, y in batches]
    traced_model, traced_step = build()   # reseeds: dropout draws the same stream
    graph = tracer.trace(traced_step, *batches[0])
    got = [expected[0]] + [graph(x, y).item() for x, y in batches[1:]]
    assert np.allclose(got, expected, rtol=1e-5, atol=1e-6)
    for a, b in zip(eager_model.parameters(), traced_model.parameters()):
        assert np.allclose(a.detach().numpy(), b.detach().numpy(), atol=1e-5)

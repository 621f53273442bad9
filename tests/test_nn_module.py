"""Module, Parameter, containers and state dicts: the behaviour users rely on."""
import numpy as np
import pytest

import eager
from eager import nn


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 4)
        self.scale = nn.Parameter(eager.ones(4))
        self.register_buffer("count", eager.zeros(()))
        self.register_buffer("scratch", eager.zeros(2), persistent=False)
        self.note = "plain attribute"

    def forward(self, x):
        return self.fc(x) * self.scale


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = Block()
        self.head = nn.Sequential(nn.ReLU(), nn.Linear(4, 2), nn.Dropout(0.1))

    def forward(self, x):
        return self.head(self.block(x))


def test_attribute_assignment_registers_parameters_and_submodules():
    net = Net()
    names = [name for name, _ in net.named_parameters()]
    assert names == ["block.scale", "block.fc.weight", "block.fc.bias", "head.1.weight",
                     "head.1.bias"]
    assert len(list(net.parameters())) == 5
    assert [type(m).__name__ for m in net.children()] == ["Block", "Sequential"]
    assert [type(m).__name__ for m in net.modules()] == [
        "Net", "Block", "Linear", "Sequential", "ReLU", "Linear", "Dropout"]
    assert net.block.note == "plain attribute"
    assert net(eager.ones(5, 3)).shape == (5, 2)


def test_parameters_are_plain_leaf_tensors_that_isinstance_recognises():
    p = nn.Parameter(eager.zeros(2, 2))
    assert type(p) is eager.Tensor and p.requires_grad and p.is_leaf
    assert isinstance(p, nn.Parameter)
    assert not isinstance(eager.zeros(2, 2, requires_grad=True), nn.Parameter)
    with pytest.raises(eager.DTypeError, match="Parameter: only floating"):
        nn.Parameter(eager.arange(3))


def test_shared_parameter_is_listed_once():
    a = nn.Linear(2, 2)
    model = nn.Sequential(a, nn.Tanh(), a)
    assert len(list(model.parameters())) == 2


def test_reassigning_an_attribute_replaces_the_registration():
    block = Block()
    block.fc = None
    assert "fc.weight" not in block.state_dict() and block.fc is None
    with pytest.raises(nn.ModuleError, match=r"Block.scale is a parameter; assign "
                                        r"nn.Parameter\(tensor\) or None, not a Tensor"):
        block.scale = block.scale * 2
    block.scale = nn.Parameter(eager.zeros(4))
    assert block.state_dict()["scale"].tolist() == [0.0] * 4
    block.scale = None
    assert [n for n, _ in block.named_parameters()] == []
    block.fc = nn.Linear(3, 4)
    with pytest.raises(nn.ModuleError, match="Block.fc is a submodule"):
        block.fc = "linear"


def test_train_eval_propagate_and_change_dropout():
    net = Net()
    assert all(m.training for m in net.modules())
    net.eval()
    assert not any(m.training for m in net.modules())
    x = eager.ones(64, 3)
    with eager.no_grad():
        assert np.array_equal(net(x).numpy(), net(x).numpy())
        net.train()
        assert not np.array_equal(net(x).numpy(), net(x).numpy())
    assert all(m.training for m in net.modules())


def test_zero_grad_to_none_and_to_zeros():
    net = Net()
    net(eager.ones(2, 3)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(float(p.grad.abs().sum()) == 0.0 for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_state_dict_has_parameters_and_persistent_buffers_sharing_memory():
    net = Net()
    sd = net.state_dict()
    assert set(sd) == {"block.scale", "block.fc.weight", "block.fc.bias", "block.count",
                       "head.1.weight", "head.1.bias"}
    assert not any(t.requires_grad for t in sd.values())
    with eager.no_grad():
        net.block.scale.fill_(3.0)
    assert sd["block.scale"].tolist() == [3.0] * 4


def test_load_state_dict_copies_in_place_keeping_identity():
    src, dst = Net(), Net()
    weight = dst.block.fc.weight
    result = dst.load_state_dict(src.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert dst.block.fc.weight is weight
    assert np.array_equal(weight.detach().numpy(), src.block.fc.weight.detach().numpy())
    x = eager.ones(3, 3)
    src.eval(), dst.eval()
    with eager.no_grad():
        assert np.array_equal(src(x).numpy(), dst(x).numpy())


def test_load_state_dict_names_missing_and_unexpected_keys():
    net = Net()
    sd = net.state_dict()
    del sd["block.fc.bias"]
    sd["head.9.weight"] = eager.zeros(1)
    before = net.block.fc.weight.detach().numpy().copy()
    with pytest.raises(nn.StateDictError) as info:
        net.load_state_dict({**sd, "block.fc.weight": eager.zeros(4, 3)})
    message = str(info.value)
    assert "missing keys ['block.fc.bias']" in message
    assert "unexpected keys ['head.9.weight']" in message
    assert "test_nn_module.py" in message
    assert isinstance(info.value, KeyError)
    assert np.array_equal(net.block.fc.weight.detach().numpy(), before)   # nothing copied
    result = net.load_state_dict(sd, strict=False)
    assert result.missing_keys == ["block.fc.bias"]
    assert result.unexpected_keys == ["head.9.weight"]


def test_load_state_dict_shape_mismatch_is_a_shape_error_naming_the_key():
    net = Net()
    sd = net.state_dict()
    sd["head.1.weight"] = eager.zeros(3, 4)
    with pytest.raises(eager.ShapeError, match=r"'head.1.weight' has shape \(3, 4\) in the "
                                               r"state dict but \(2, 4\) in the model"):
        net.load_state_dict(sd)


def test_repr_is_nested_and_readable():
    text = repr(Net())
    assert text.splitlines()[0] == "Net("
    assert "(fc): Linear(in_features=3, out_features=4, bias=True)" in text
    assert "    (1): Linear(in_features=4, out_features=2, bias=True)" in text
    assert "(2): Dropout(p=0.1)" in text
    assert repr(nn.Conv2d(1, 8, 3, padding=1)) == (
        "Conv2d(1, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=True)")


def test_forgetting_super_init_is_explained():
    class Broken(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(2, 2)

    with pytest.raises(nn.ModuleError, match=r"call super\(\).__init__\(\)"):
        Broken()


def test_missing_forward_is_explained():
    with pytest.raises(NotImplementedError, match="Module has no forward"):
        nn.Module()(eager.ones(1))


def test_to_dtype_converts_parameters_and_buffers():
    block = Block().double()
    assert all(p.dtype == eager.float64 for p in block.parameters())
    assert block.count.dtype == eager.float64
    assert all(isinstance(p, nn.Parameter) for p in block.parameters())


def test_sequential_indexing_and_append():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    model.append(nn.Linear(3, 1))
    assert len(model) == 3 and isinstance(model[-1], nn.Linear)
    assert len(model[:2]) == 2
    assert model(eager.ones(4, 2)).shape == (4, 1)


def test_default_init_matches_pytorch_bounds_and_is_seeded():
    eager.manual_seed(3)
    a = nn.Linear(100, 50)
    eager.manual_seed(3)
    b = nn.Linear(100, 50)
    w = a.weight.detach().numpy()
    assert np.array_equal(w, b.weight.detach().numpy())
    bound = 1 / np.sqrt(100)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert abs(w.std() - bound / np.sqrt(3)) < 0.1 * bound   # U(-b, b) has std b/sqrt(3)
    conv = nn.Conv2d(4, 8, 3)
    assert np.abs(conv.bias.detach().numpy()).max() <= 1 / np.sqrt(4 * 9)


def test_layers_forward_shapes_and_embedding():
    eager.manual_seed(0)
    emb = nn.Embedding(10, 4)
    idx = eager.tensor([[1, 2], [9, 1]])
    out = emb(idx)
    assert out.shape == (2, 2, 4)
    assert np.array_equal(out.detach().numpy()[0, 0], out.detach().numpy()[1, 1])
    out.sum().backward()
    grad = emb.weight.grad.numpy()
    assert grad[1].tolist() == [2.0] * 4 and grad[0].tolist() == [0.0] * 4
    ln = nn.LayerNorm(4)
    y = ln(eager.randn(3, 4)).detach().numpy()
    assert np.allclose(y.mean(-1), 0, atol=1e-5) and np.allclose(y.std(-1), 1, atol=1e-3)
    assert nn.Flatten()(eager.zeros(2, 3, 4)).shape == (2, 12)
    assert nn.MaxPool2d(2)(eager.zeros(1, 2, 6, 6)).shape == (1, 2, 3, 3)

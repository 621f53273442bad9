"""Bad input never gives a bare numpy/Python traceback and is never silently accepted.

A table of wrong calls across the public surface (creation and random functions, Tensor
methods taking axes/shapes/indices, nn layers and functional, optimizers and schedulers,
autograd entry points, `jit()`), each asserting the named error and the key words of its
message; a property test that feeds generated junk into the same surface and accepts only
the project's own errors; and the spellings PyTorch and NumPy accept, which keep working.
"""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import eager
import eager.nn.functional as F
import jit
from eager import nn, optim
from eager.optim import lr_scheduler

nan, inf = float("nan"), float("inf")
A, S, D, AG, T = (eager.ArgumentError, eager.ShapeError, eager.DTypeError,
                  eager.AutogradError, nn.TargetError)


def X():
    return eager.ones(2, 3)


def P():
    return [eager.zeros(2, requires_grad=True)]


def OPT():
    return optim.SGD(P(), lr=0.1)


def _backward_with(gradient):
    x = eager.ones(2, requires_grad=True)
    (x * 2).backward(gradient=gradient)


WRONG_CALLS = [
    ("zeros(None)", lambda: eager.zeros(None), A, ["zeros", "shape"]),
    ("zeros(2.5)", lambda: eager.zeros(2.5), A, ["zeros", "2.5"]),
    ("zeros(-1)", lambda: eager.zeros(-1), S, ["negative", "(-1,)"]),
    ("zeros('3')", lambda: eager.zeros("3"), A, ["zeros", "shape"]),
    ("zeros((2,None))", lambda: eager.zeros((2, None)), A, ["zeros", "None"]),
    ("zeros([[2]])", lambda: eager.zeros([[2]]), A, ["zeros", "shape"]),
    ("ones(nan)", lambda: eager.ones(nan), A, ["ones", "shape"]),
    ("empty(2,-3)", lambda: eager.empty(2, -3), S, ["negative", "(2, -3)"]),
    ("rand(-1)", lambda: eager.rand(-1), S, ["rand", "negative"]),
    ("randn(2.0)", lambda: eager.randn(2.0), A, ["randn", "shape"]),
    ("full(None,1)", lambda: eager.full(None, 1), A, ["full", "shape"]),
    ("full nan int64", lambda: eager.full((2,), nan, dtype=eager.int64),
     A, ["full", "nan", "int64"]),
    ("full inf int32", lambda: eager.full((2,), inf, dtype=eager.int32), A, ["full", "int32"]),
    ("full 300 uint8", lambda: eager.full((2,), 300, dtype=eager.uint8),
     A, ["full", "300", "uint8"]),
    ("full 1e300 float32", lambda: eager.full((2,), 1e300), A, ["full", "float32", "overflow"]),
    ("full 'a'", lambda: eager.full((2,), "a"), A, ["full", "fill_value"]),
    ("full_like nan int", lambda: eager.full_like(eager.zeros(2, dtype=eager.int64), nan),
     A, ["full", "nan"]),
    ("zeros_like(5)", lambda: eager.zeros_like(5), A, ["zeros_like", "Tensor"]),
    ("ones_like('a')", lambda: eager.ones_like("a"), A, ["ones_like", "Tensor"]),
    ("arange(inf)", lambda: eager.arange(inf), A, ["arange", "finite"]),
    ("arange(nan)", lambda: eager.arange(nan), A, ["arange", "finite"]),
    ("arange(None)", lambda: eager.arange(None), A, ["arange", "None"]),
    ("arange('a')", lambda: eager.arange("a"), A, ["arange", "number"]),
    ("arange step 0", lambda: eager.arange(0, 5, 0), S, ["arange", "step"]),
    ("linspace num -1", lambda: eager.linspace(0, 1, -1), A, ["linspace", "num"]),
    ("linspace num 2.5", lambda: eager.linspace(0, 1, 2.5), A, ["linspace", "num"]),
    ("linspace start 'a'", lambda: eager.linspace("a", 1, 3), A, ["linspace", "start"]),
    ("eye(-1)", lambda: eager.eye(-1), A, ["eye", "n_rows"]),
    ("eye(2.5)", lambda: eager.eye(2.5), A, ["eye", "n_rows"]),
    ("eye(None)", lambda: eager.eye(None), A, ["eye", "n_rows"]),
    ("eye(2,-1)", lambda: eager.eye(2, -1), A, ["eye", "n_cols"]),
    ("eye k=1.5", lambda: eager.eye(2, k=1.5), A, ["eye", "k"]),
    ("from_numpy str", lambda: eager.from_numpy(np.array(["a"])), D, ["from_numpy", "<U1"]),
    ("from_numpy complex256", lambda: eager.from_numpy(np.array([1j], dtype=np.clongdouble)), D,
     ["from_numpy", "complex256"]),
    ("from_numpy list", lambda: eager.from_numpy([1, 2]), A, ["from_numpy", "numpy"]),
    ("tensor int requires_grad", lambda: eager.tensor([1, 2], requires_grad=True),
     D, ["requires_grad", "int64"]),
    ("tensor 300 int8", lambda: eager.tensor([300], dtype=eager.int8),
     A, ["tensor", "300", "int8"]),
    ("tensor dict", lambda: eager.tensor({"a": 1}), D, ["tensor", "dict"]),
    ("randint(5,2)", lambda: eager.randint(5, 2, (3,)), A, ["randint", "low", "high"]),
    ("randint high 2.5", lambda: eager.randint(0, 2.5, (3,)), A, ["randint", "high"]),
    ("randint size -1", lambda: eager.randint(0, 5, (-1,)), S, ["randint", "negative"]),
    ("normal std -1", lambda: eager.normal(0.0, -1.0, (2,)), A, ["normal", "std"]),
    ("normal std nan", lambda: eager.normal(0.0, nan, (2,)), A, ["normal", "std"]),
    ("normal mean inf", lambda: eager.normal(inf, 1.0, (2,)), A, ["normal", "mean"]),
    ("normal size None", lambda: eager.normal(0.0, 1.0, None), A, ["normal", "size"]),
    ("uniform low>high", lambda: eager.uniform(1.0, 0.0, (2,)), A, ["uniform", "low", "high"]),
    ("uniform nan", lambda: eager.uniform(nan, 1.0, (2,)), A, ["uniform", "low"]),
    ("uniform 'a'", lambda: eager.uniform("a", 1.0, (2,)), A, ["uniform", "low"]),
    ("rand int dtype", lambda: eager.rand(2, dtype=eager.int64), D, ["uniform", "int64"]),
    ("randperm(-1)", lambda: eager.randperm(-1), A, ["randperm", "n"]),
    ("randperm(2.5)", lambda: eager.randperm(2.5), A, ["randperm", "n"]),
    ("manual_seed('a')", lambda: eager.manual_seed("a"), A, ["manual_seed", "seed"]),
    ("manual_seed(2.5)", lambda: eager.manual_seed(2.5), A, ["manual_seed", "seed"]),
    ("Generator(seed='a')", lambda: eager.Generator(seed="a"), A, ["Generator", "seed"]),
    ("rand generator='x'", lambda: eager.rand(2, generator="x"), A, ["generator", "Generator"]),
    # axes / shapes / indices
    ("sum axis 1.5", lambda: eager.sum(X(), axis=1.5), A, ["sum", "axis", "1.5"]),
    ("sum axis 'a'", lambda: X().sum(axis="a"), A, ["sum", "axis"]),
    ("sum axis (0,None)", lambda: X().sum(axis=(0, None)), A, ["sum", "axis"]),
    ("mean dim 1.0", lambda: X().mean(dim=1.0), A, ["mean", "axis"]),
    ("argmax axis 1.5", lambda: X().argmax(axis=1.5), A, ["argmax", "axis"]),
    ("max dim 5", lambda: X().max(dim=5), S, ["max", "out of range"]),
    ("reshape 2.5", lambda: X().reshape(2.5, 2), A, ["reshape", "2.5"]),
    ("reshape None", lambda: X().reshape(None), A, ["reshape", "shape"]),
    ("reshape -2", lambda: X().reshape(-2, 3), S, ["reshape", "-2"]),
    ("view 'a'", lambda: X().view("a"), A, ["view", "shape"]),
    ("expand -2", lambda: X().expand(-2, 3), S, ["expand", "-2"]),
    ("expand None", lambda: X().expand(None, 3), A, ["expand", "None"]),
    ("permute 1.5", lambda: X().permute(0, 1.5), A, ["permute", "1.5"]),
    ("permute repeat", lambda: X().permute(0, 0), S, ["permute", "repeat"]),
    ("permute count", lambda: X().permute(0), S, ["permute", "2"]),
    ("transpose 'a'", lambda: X().transpose(0, "a"), A, ["transpose", "axis"]),
    ("unsqueeze 1.5", lambda: X().unsqueeze(1.5), A, ["unsqueeze", "1.5"]),
    ("flatten 1.5", lambda: X().flatten(1.5), A, ["flatten", "1.5"]),
    ("squeeze 'a'", lambda: X().squeeze("a"), A, ["squeeze", "axis"]),
    ("flip 1.5", lambda: eager.flip(X(), axis=1.5), A, ["flip", "axis"]),
    ("cumsum 1.5", lambda: eager.cumsum(X(), axis=1.5), A, ["cumsum", "axis"]),
    ("argsort 1.5", lambda: eager.argsort(X(), axis=1.5), A, ["argsort", "axis"]),
    ("concat axis 1.5", lambda: eager.concat([X(), X()], axis=1.5), A, ["concat", "axis"]),
    ("concat str", lambda: eager.concat("ab"), A, ["concat", "Tensor"]),
    ("stack [1,2]", lambda: eager.stack([1, 2]), A, ["stack", "Tensor"]),
    ("split 0", lambda: eager.split(X(), 0, 1), S, ["split", "positive"]),
    ("split 1.5", lambda: eager.split(X(), 1.5, 1), A, ["split", "1.5"]),
    ("chunk 0", lambda: eager.chunk(X(), 0), S, ["chunk", "positive"]),
    ("chunk 1.5", lambda: eager.chunk(X(), 1.5), A, ["chunk", "1.5"]),
    ("topk -1", lambda: eager.topk(X(), -1), S, ["topk", "k"]),
    ("topk 1.5", lambda: eager.topk(X(), 1.5), A, ["topk", "k"]),
    ("gather dim 1.5", lambda: eager.gather(X(), 1.5, eager.zeros(2, 1, dtype=eager.int64)),
     A, ["gather", "axis"]),
    ("moveaxis 1.5", lambda: eager.moveaxis(X(), 1.5, 0), A, ["moveaxis", "axis"]),
    ("pad 'a'", lambda: eager.pad(X(), "a"), A, ["pad", "widths"]),
    ("x[::0]", lambda: X()[::0], A, ["index", "step"]),
    ("x[0, ::0]", lambda: X()[0, ::0], A, ["index", "step"]),
    ("x[1.5]", lambda: X()[1.5], D, ["index", "float"]),
    ("x['a']", lambda: X()["a"], D, ["index", "str"]),
    ("x[{1:2}]", lambda: X()[{1: 2}], D, ["index", "dict"]),
    ("x[[1.5]]", lambda: X()[[1.5]], D, ["index", "float"]),
    ("x[5]", lambda: X()[5], S, ["index", "5", "out of"]),
    ("x[-3]", lambda: X()[-3], S, ["index", "-3", "out of"]),
    ("x[[0, 5]]", lambda: X()[[0, 5]], S, ["index", "out of"]),
    ("x[0:1.5]", lambda: X()[0:1.5], D, ["index", "slice"]),
    ("x.size(2)", lambda: X().size(2), S, ["size", "axis 2", "out of range"]),
    ("size of 0-d", lambda: eager.tensor(1.0).size(0), S, ["size", "0-d"]),
    ("x.size(1.5)", lambda: X().size(1.5), A, ["size", "axis", "1.5"]),
    ("expand_as(None)", lambda: X().expand_as(None), A, ["expand_as", "Tensor"]),
    ("view_as(3)", lambda: X().view_as(3), A, ["view_as", "Tensor"]),
    ("broadcast_arrays junk", lambda: eager.broadcast_arrays(X(), 2),
     A, ["broadcast_arrays", "Tensor"]),
    ("outer(x, 'a')", lambda: eager.outer(X(), "a"), A, ["outer", "Tensor"]),
    ("tensordot axes 1.5", lambda: eager.tensordot(X(), X(), axes=1.5), A, ["tensordot", "axes"]),
    ("tensordot axes 3", lambda: eager.tensordot(X(), X(), axes=3), S, ["tensordot", "axes=3"]),
    ("take_along_axis None", lambda: eager.take_along_axis(X(), None),
     A, ["gather", "index", "Tensor"]),
    ("var correction 'a'", lambda: X().var(correction="a"), A, ["var", "correction"]),
    ("sum of a list", lambda: eager.sum([1, 2]), A, ["sum", "x", "Tensor"]),
    ("reshape of None", lambda: eager.reshape(None, 2), A, ["reshape", "Tensor"]),
    ("floor of None", lambda: eager.floor(None), D, ["unsupported operand", "NoneType"]),
    ("finfo(int64)", lambda: eager.finfo(eager.int64), D, ["finfo", "int64", "floating"]),
    ("iinfo(float32)", lambda: eager.iinfo("float32"), D, ["iinfo", "float32", "integer"]),
    ("Flatten()(list)", lambda: nn.Flatten()([[1.0]]), A, ["flatten", "Tensor"]),
    ("x.to(5)", lambda: X().to(5), D, ["dtype"]),
    # nn.functional
    ("softmax dim 5", lambda: F.softmax(X(), dim=5), S, ["softmax", "5"]),
    ("softmax dim 1.5", lambda: F.softmax(X(), dim=1.5), A, ["softmax", "1.5"]),
    ("log_softmax dim 5", lambda: F.log_softmax(X(), dim=5), S, ["log_softmax", "5"]),
    ("softmax list", lambda: F.softmax([1.0, 2.0]), A, ["softmax", "Tensor"]),
    ("relu int", lambda: F.relu(5), A, ["relu", "Tensor"]),
    ("linear weight 5", lambda: F.linear(X(), 5), A, ["linear", "weight", "Tensor"]),
    ("mse_loss str", lambda: F.mse_loss(X(), "a"), A, ["mse_loss", "target", "Tensor"]),
    ("cross_entropy -1", lambda: F.cross_entropy(X(), eager.tensor([0, -1])),
     T, ["cross_entropy", "-1"]),
    ("cross_entropy 3", lambda: F.cross_entropy(X(), eager.tensor([0, 3])),
     T, ["cross_entropy", "[0, 3)"]),
    ("cross_entropy list", lambda: F.cross_entropy(X(), [0, 1]),
     A, ["cross_entropy", "target", "Tensor"]),
    ("embedding -1", lambda: nn.Embedding(10, 4)(eager.tensor([-1])), T, ["embedding", "-1"]),
    ("embedding 10", lambda: nn.Embedding(10, 4)(eager.tensor([10])), T, ["embedding", "[0, 10)"]),
    ("dropout p nan", lambda: F.dropout(X(), p=nan), A, ["dropout", "p"]),
    ("dropout p 'a'", lambda: F.dropout(X(), p="a"), A, ["dropout", "p"]),
    ("layer_norm 2.5", lambda: F.layer_norm(X(), 2.5), A, ["layer_norm", "normalized_shape"]),
    ("layer_norm weight 2.0", lambda: F.layer_norm(X(), 3, weight=2.0),
     A, ["layer_norm", "weight"]),
    ("layer_norm eps 'a'", lambda: F.layer_norm(X(), 3, eps="a"), A, ["layer_norm", "eps"]),
    ("conv2d stride 0", lambda: F.conv2d(eager.ones(1, 1, 3, 3), eager.ones(1, 1, 2, 2), stride=0),
     A, ["conv2d", "stride"]),
    ("max_pool2d 0", lambda: F.max_pool2d(eager.ones(1, 1, 4, 4), 0), A, ["max_pool2d", "kernel"]),
    # nn constructors
    ("Linear(-1,3)", lambda: nn.Linear(-1, 3), A, ["Linear", "in_features"]),
    ("Linear(2.5,3)", lambda: nn.Linear(2.5, 3), A, ["Linear", "in_features"]),
    ("Linear('3',4)", lambda: nn.Linear("3", 4), A, ["Linear", "in_features"]),
    ("Linear(3,None)", lambda: nn.Linear(3, None), A, ["Linear", "out_features"]),
    ("Conv2d k=0", lambda: nn.Conv2d(3, 8, 0), A, ["Conv2d", "kernel_size"]),
    ("Conv2d k=2.5", lambda: nn.Conv2d(3, 8, 2.5), A, ["Conv2d", "kernel_size"]),
    ("Conv2d k=(3,)", lambda: nn.Conv2d(3, 8, (3,)), A, ["Conv2d", "kernel_size"]),
    ("Conv2d stride 0", lambda: nn.Conv2d(3, 8, 3, stride=0), A, ["Conv2d", "stride"]),
    ("Conv2d padding -1", lambda: nn.Conv2d(3, 8, 3, padding=-1), A, ["Conv2d", "padding"]),
    ("Conv2d in -1", lambda: nn.Conv2d(-1, 8, 3), A, ["Conv2d", "in_channels"]),
    ("Embedding(-1,4)", lambda: nn.Embedding(-1, 4), A, ["Embedding", "num_embeddings"]),
    ("Embedding(10,2.5)", lambda: nn.Embedding(10, 2.5), A, ["Embedding", "embedding_dim"]),
    ("LayerNorm(-1)", lambda: nn.LayerNorm(-1), S, ["LayerNorm", "normalized_shape", "negative"]),
    ("LayerNorm(2.5)", lambda: nn.LayerNorm(2.5), A, ["LayerNorm", "normalized_shape"]),
    ("LayerNorm eps 'a'", lambda: nn.LayerNorm(4, eps="a"), A, ["LayerNorm", "eps"]),
    ("Dropout('a')", lambda: nn.Dropout("a"), A, ["Dropout", "p"]),
    ("MaxPool2d(0)", lambda: nn.MaxPool2d(0), A, ["MaxPool2d", "kernel_size"]),
    ("MaxPool2d(2.5)", lambda: nn.MaxPool2d(2.5), A, ["MaxPool2d", "kernel_size"]),
    ("Flatten(1.5)", lambda: nn.Flatten(1.5), A, ["Flatten", "start_dim"]),
    ("Sequential()[3]", lambda: nn.Sequential(nn.ReLU())[3], A, ["Sequential", "index"]),
    ("requires_grad_('yes')", lambda: X().requires_grad_("yes"),
     A, ["requires_grad_", "bool", "str"]),
    ("Module.to(5)", lambda: nn.Linear(2, 2).to(5), D, ["dtype", "5"]),
    ("calculate_gain(5)", lambda: nn.init.calculate_gain(5), A, ["calculate_gain", "int"]),
    ("cross_entropy reduction array",
     lambda: F.cross_entropy(X(), eager.tensor([0, 1]), np.array([0, 1])),
     A, ["cross_entropy", "reduction"]),
    ("Module.train('x')", lambda: nn.ReLU().train("yes"), A, ["train", "mode", "bool"]),
    # optim
    ("SGD lr nan", lambda: optim.SGD(P(), lr=nan), A, ["SGD", "lr"]),
    ("SGD lr 'a'", lambda: optim.SGD(P(), lr="a"), A, ["SGD", "lr"]),
    ("SGD lr inf", lambda: optim.SGD(P(), lr=inf), A, ["SGD", "lr"]),
    ("SGD momentum nan", lambda: optim.SGD(P(), lr=0.1, momentum=nan), A, ["SGD", "momentum"]),
    ("SGD params 5", lambda: optim.SGD(5, lr=0.1), A, ["SGD", "params"]),
    ("SGD params tensor", lambda: optim.SGD(eager.zeros(2, requires_grad=True), lr=0.1),
     A, ["SGD", "params", "Tensor"]),
    ("SGD group without params", lambda: optim.SGD([{"lr": 0.1}]), A, ["SGD", "params"]),
    ("SGD same tensor twice", lambda: optim.SGD([eager.zeros(1, requires_grad=True)] * 2, lr=0.1),
     A, ["SGD", "appears twice"]),
    ("Adam betas 0.9", lambda: optim.Adam(P(), betas=0.9), A, ["Adam", "betas"]),
    ("Adam betas (0.9,)", lambda: optim.Adam(P(), betas=(0.9,)), A, ["Adam", "betas"]),
    ("Adam eps nan", lambda: optim.Adam(P(), eps=nan), A, ["Adam", "eps"]),
    ("Adam weight_decay 'a'", lambda: optim.Adam(P(), weight_decay="a"),
     A, ["Adam", "weight_decay"]),
    ("AdamW lr -1", lambda: optim.AdamW(P(), lr=-1.0), A, ["AdamW", "lr"]),
    ("set_lr nan", lambda: OPT().set_lr(nan), A, ["set_lr", "lr"]),
    ("set_lr 'a'", lambda: OPT().set_lr("a"), A, ["set_lr", "lr"]),
    ("SGD load_state_dict junk", lambda: OPT().load_state_dict({"state": 5, "param_groups": 5}),
     optim.OptimizerStateError, ["load_state_dict", "param_groups"]),
    ("StepLR load_state_dict junk", lambda: lr_scheduler.StepLR(OPT(), 1).load_state_dict([]),
     A, ["StepLR.load_state_dict", "last_epoch"]),
    ("StepLR 2.5", lambda: lr_scheduler.StepLR(OPT(), 2.5), A, ["StepLR", "step_size"]),
    ("StepLR 'a'", lambda: lr_scheduler.StepLR(OPT(), "a"), A, ["StepLR", "step_size"]),
    ("StepLR not opt", lambda: lr_scheduler.StepLR("opt", 2), A, ["StepLR", "optimizer"]),
    ("ExponentialLR nan", lambda: lr_scheduler.ExponentialLR(OPT(), nan),
     A, ["ExponentialLR", "gamma"]),
    ("Cosine T_max nan", lambda: lr_scheduler.CosineAnnealingLR(OPT(), nan),
     A, ["CosineAnnealingLR", "T_max"]),
    # autograd
    ("backward gradient 'a'", lambda: _backward_with("a"), A, ["backward", "gradient", "Tensor"]),
    ("backward gradient shape", lambda: _backward_with(eager.ones(3)),
     AG, ["backward", "gradient"]),
    ("grad inputs 5", lambda: eager.grad(eager.ones(1, requires_grad=True).sum(), 5),
     A, ["grad", "inputs", "Tensor"]),
    ("grad outputs 'a'", lambda: eager.grad("a", eager.ones(1, requires_grad=True)),
     A, ["grad", "outputs", "Tensor"]),
    # jit
    ("jit(5)", lambda: jit.jit(5), A, ["jit", "callable"]),
    ("jit static_argnames 5", lambda: jit.jit(lambda x: x, static_argnames=5),
     A, ["jit", "static_argnames"]),
    ("jit disable 5", lambda: jit.jit(lambda x: x, disable=5), A, ["jit", "disable"]),
    ("jit disable unknown", lambda: jit.jit(lambda x: x, disable=("fusion",)),
     A, ["jit", "unknown pass", "fusion"]),
    ("jit max_variants 0", lambda: jit.jit(lambda x: x, max_variants=0),
     A, ["jit", "max_variants"]),
    ("jit max_variants 'a'", lambda: jit.jit(lambda x: x, max_variants="a"),
     A, ["jit", "max_variants"]),
]


@pytest.mark.parametrize("call, error, words", [c[1:] for c in WRONG_CALLS],
                         ids=[c[0] for c in WRONG_CALLS])
def test_wrong_call_raises_named_error(call, error, words):
    with pytest.raises(error) as info:
        call()
    message = str(info.value)
    for word in words:
        assert word in message, f"{word!r} not in {message!r}"
    assert "(at test_bad_input.py:" in message  # the user's line


def test_argument_error_is_exported_and_catchable_as_builtin():
    assert eager.ArgumentError is nn.ArgumentError
    assert issubclass(eager.ArgumentError, eager.EagerError)
    with pytest.raises(TypeError):  # what Python raised for zeros(None) before
        eager.zeros(None)
    with pytest.raises(ValueError):
        optim.SGD(P(), lr=nan)
    with pytest.raises(IndexError):  # a Sequential indexes like a list
        nn.Sequential(nn.ReLU())[1]


# ---- the spellings PyTorch / NumPy accept keep working ---------------------------------

VALID_CALLS = [
    (lambda: eager.zeros(2, 3).shape, (2, 3)),
    (lambda: eager.zeros((2, 3)).shape, (2, 3)),
    (lambda: eager.zeros([2, 3]).shape, (2, 3)),
    (lambda: eager.zeros(np.int64(2), np.int32(3)).shape, (2, 3)),
    (lambda: eager.zeros(eager.tensor(2)).shape, (2,)),
    (lambda: eager.zeros(X().shape).shape, (2, 3)),
    (lambda: eager.zeros(()).shape, ()),
    (lambda: eager.ones(0, 3).shape, (0, 3)),
    (lambda: eager.rand(np.array([2, 3])).shape, (2, 3)),
    (lambda: eager.full((2,), 1.5, dtype=eager.int64).tolist(), [1, 1]),
    (lambda: eager.isnan(eager.full((2,), nan)).all().item(), True),
    (lambda: eager.full((2,), np.int64(255), dtype=eager.uint8).tolist(), [255, 255]),
    (lambda: eager.full((1,), True).dtype, eager.bool),
    (lambda: eager.full((1,), np.int32(3)).dtype, eager.int64),
    (lambda: eager.arange(5, 0, -2).tolist(), [5, 3, 1]),
    (lambda: eager.arange(0).shape, (0,)),
    (lambda: eager.arange(5, 0).shape, (0,)),  # the Array API's empty range, as numpy
    (lambda: eager.arange(eager.tensor(3)).tolist(), [0, 1, 2]),
    (lambda: eager.linspace(0, 1, 0).shape, (0,)),
    (lambda: eager.linspace(0, 1, np.int64(2)).tolist(), [0.0, 1.0]),
    (lambda: eager.eye(0).shape, (0, 0)),
    (lambda: eager.eye(2, 3, k=-1).sum().item(), 1.0),
    (lambda: eager.randint(10, (3,)).shape, (3,)),
    (lambda: eager.randint(0, 10, 3).shape, (3,)),
    (lambda: eager.randint(np.int64(2), 3, (4,)).tolist(), [2, 2, 2, 2]),
    (lambda: eager.normal(0.0, 0.0, (2,)).tolist(), [0.0, 0.0]),
    (lambda: eager.uniform(1.0, 1.0, (1,)).tolist(), [1.0]),
    (lambda: eager.manual_seed(-1).initial_seed(), -1),
    (lambda: eager.manual_seed(np.int64(3)).initial_seed(), 3),
    (lambda: sorted(eager.randperm(np.int64(3)).tolist()), [0, 1, 2]),
    (lambda: X().sum(axis=np.int64(1)).shape, (2,)),
    (lambda: X().sum(dim=-1, keepdim=True).shape, (2, 1)),
    (lambda: X().sum(axis=[0, 1]).item(), 6.0),
    (lambda: X().sum(axis=eager.tensor(0)).shape, (3,)),
    (lambda: X().sum(axis=range(2)).item(), 6.0),
    (lambda: X().max(dim=np.int64(1)).values.shape, (2,)),
    (lambda: X().reshape(-1).shape, (6,)),
    (lambda: X().reshape([3, 2]).shape, (3, 2)),
    (lambda: X().view(np.int64(6)).shape, (6,)),
    (lambda: X().permute([1, 0]).shape, (3, 2)),
    (lambda: X().permute(-1, 0).shape, (3, 2)),
    (lambda: X().expand(4, -1, 3).shape, (4, 2, 3)),
    (lambda: X()[np.int64(1)].shape, (3,)),
    (lambda: X()[::-1].shape, (2, 3)),
    (lambda: X()[:, ::np.int64(2)].shape, (2, 2)),
    (lambda: [t.shape for t in X().split([1, 2], dim=1)], [(2, 1), (2, 2)]),
    (lambda: len(X().chunk(np.int64(2), 1)), 2),
    (lambda: eager.pad(X(), [[0, 0], [1, 1]]).shape, (2, 5)),
    (lambda: eager.pad(X(), np.array([[0, 0], [1, 1]])).shape, (2, 5)),
    (lambda: F.softmax(X(), dim=np.int64(0)).shape, (2, 3)),
    (lambda: F.log_softmax(X(), -1).shape, (2, 3)),
    (lambda: F.layer_norm(X(), [3]).shape, (2, 3)),
    (lambda: F.dropout(X(), p=np.float32(0.0)).tolist(), X().tolist()),
    (lambda: F.cross_entropy(X(), eager.tensor([0, 2]), reduction="none").shape, (2,)),
    (lambda: nn.Embedding(3, 2)(eager.tensor([[0, 2]])).shape, (1, 2, 2)),
    (lambda: nn.Linear(0, 3)(eager.ones(2, 0)).shape, (2, 3)),
    (lambda: nn.Linear(np.int64(3), 2)(X()).shape, (2, 2)),
    (lambda: nn.Embedding(0, 4).weight.shape, (0, 4)),
    (lambda: nn.Conv2d(0, 2, 3).weight.shape, (2, 0, 3, 3)),
    (lambda: nn.Conv2d(1, 2, (3, 3), stride=[1, 1]).kernel_size, (3, 3)),
    (lambda: nn.LayerNorm([2, 3]).normalized_shape, (2, 3)),
    (lambda: nn.MaxPool2d((2, 2), padding=1)(eager.ones(1, 1, 4, 4)).shape, (1, 1, 3, 3)),
    (lambda: nn.Sequential(nn.ReLU(), nn.Tanh())[-1].__class__, nn.Tanh),
    (lambda: nn.ReLU().train(np.bool_(False)).training, False),
    (lambda: len(optim.SGD(P(), lr=eager.tensor(0.1)).param_groups), 1),
    (lambda: optim.Adam(P(), betas=[0.9, 0.99]).param_groups[0]["betas"], (0.9, 0.99)),
    (lambda: len(optim.SGD([{"params": P()}], lr=0.1).param_groups), 1),
    (lambda: lr_scheduler.StepLR(OPT(), np.int64(2)).step_size, 2),
    (lambda: jit.jit(lambda x, n: x * n, static_argnames="n")(X(), 2).sum().item(), 12.0),
    (lambda: jit.jit(static_argnames=["n"], max_variants=np.int64(2))(lambda x, n: x)(X(), 1)
     .shape, (2, 3)),
]


@pytest.mark.parametrize("case", range(len(VALID_CALLS)))
def test_valid_spellings_still_work(case):
    call, expected = VALID_CALLS[case]
    assert call() == expected


# ---- property: generated junk gives only the project's named errors --------------------

_junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-4, 4),
    st.sampled_from([2 ** 70, -(10 ** 400)]),
    st.floats(-4, 4),
    st.sampled_from([nan, inf, -inf, 1e300, 2.5, -0.0]),
    st.complex_numbers(max_magnitude=3, allow_nan=False, allow_infinity=False),
    st.text(max_size=3),
    st.lists(st.one_of(st.none(), st.integers(-3, 3), st.floats(-3, 3), st.text(max_size=1)),
             max_size=3),
    st.tuples(st.integers(-3, 3), st.one_of(st.none(), st.floats(-3, 3), st.text(max_size=1))),
    st.lists(st.lists(st.integers(-2, 2), max_size=2), max_size=2),
    st.dictionaries(st.text(max_size=1), st.integers(-2, 2), max_size=2),
    st.sampled_from([object(), [], (), {}, Ellipsis, slice(None, None, 0), np.array(["a"]),
                     np.array(2), np.array([[1]]), np.array([]), np.array([0, 1]),
                     np.array([1j]), np.float64(nan), np.int64(-3)]),
)


def _toy(x):
    return x * 2


def _step():
    x = eager.ones(2, requires_grad=True)
    return x, (x * x).sum()


# Each entry calls one public function with the junk value `j` in one argument slot.
SURFACE = {
    "zeros": lambda j: eager.zeros(j),
    "zeros_varargs": lambda j: eager.zeros(2, j),
    "ones_dtype": lambda j: eager.ones(2, dtype=j),
    "empty_device": lambda j: eager.empty(2, device=j),
    "full_shape": lambda j: eager.full(j, 1),
    "full_value": lambda j: eager.full((2,), j),
    "full_value_int": lambda j: eager.full((2,), j, dtype=eager.int16),
    "full_like": lambda j: eager.full_like(X(), j),
    "zeros_like": lambda j: eager.zeros_like(j),
    "tensor": lambda j: eager.tensor(j),
    "tensor_dtype": lambda j: eager.tensor([1.0], dtype=j),
    "asarray": lambda j: eager.asarray(j),
    "from_numpy": lambda j: eager.from_numpy(j),
    "arange_stop": lambda j: eager.arange(j),
    "arange_start": lambda j: eager.arange(j, 3),
    "arange_step": lambda j: eager.arange(0, 3, j),
    "linspace_start": lambda j: eager.linspace(j, 1, 3),
    "linspace_num": lambda j: eager.linspace(0, 1, j),
    "eye": lambda j: eager.eye(j),
    "eye_cols": lambda j: eager.eye(2, j),
    "eye_k": lambda j: eager.eye(2, k=j),
    "rand": lambda j: eager.rand(j),
    "randn_varargs": lambda j: eager.randn(1, j),
    "rand_generator": lambda j: eager.rand(2, generator=j),
    "randint_low": lambda j: eager.randint(j, 5, (2,)),
    "randint_high": lambda j: eager.randint(0, j, (2,)),
    "randint_size": lambda j: eager.randint(0, 5, j),
    "normal_mean": lambda j: eager.normal(j, 1.0, (2,)),
    "normal_std": lambda j: eager.normal(0.0, j, (2,)),
    "normal_size": lambda j: eager.normal(0.0, 1.0, j),
    "uniform_low": lambda j: eager.uniform(j, 1.0, (2,)),
    "uniform_high": lambda j: eager.uniform(0.0, j, (2,)),
    "randperm": lambda j: eager.randperm(j),
    "generator_seed": lambda j: eager.Generator(seed=j),
    "sum_axis": lambda j: X().sum(axis=j),
    "mean_dim": lambda j: X().mean(dim=j),
    "max_dim": lambda j: X().max(dim=j),
    "argmax_axis": lambda j: X().argmax(axis=j),
    "var_axis": lambda j: X().var(axis=j),
    "reshape": lambda j: X().reshape(j),
    "reshape_varargs": lambda j: X().reshape(3, j),
    "view": lambda j: X().view(j),
    "expand": lambda j: X().expand(j, 3),
    "permute": lambda j: X().permute(j),
    "transpose": lambda j: X().transpose(0, j),
    "unsqueeze": lambda j: X().unsqueeze(j),
    "squeeze": lambda j: X().squeeze(j),
    "flatten": lambda j: X().flatten(j),
    "flip": lambda j: eager.flip(X(), axis=j),
    "cumsum": lambda j: eager.cumsum(X(), axis=j),
    "argsort": lambda j: eager.argsort(X(), axis=j),
    "topk": lambda j: eager.topk(X(), j),
    "split": lambda j: X().split(j, 1),
    "chunk": lambda j: X().chunk(j),
    "concat": lambda j: eager.concat(j),
    "concat_axis": lambda j: eager.concat([X(), X()], axis=j),
    "stack": lambda j: eager.stack(j),
    "pad": lambda j: eager.pad(X(), j),
    "gather_dim": lambda j: X().gather(j, eager.zeros(2, 1, dtype=eager.int64)),
    "getitem": lambda j: X()[j],
    "getitem_pair": lambda j: X()[0, j],
    "setitem": lambda j: X().__setitem__(j, 1.0),
    "astype": lambda j: X().astype(j),
    "to": lambda j: X().to(j),
    "softmax_dim": lambda j: F.softmax(X(), dim=j),
    "log_softmax_dim": lambda j: F.log_softmax(X(), dim=j),
    "relu": lambda j: F.relu(j),
    "dropout_p": lambda j: F.dropout(X(), p=j),
    "layer_norm_shape": lambda j: F.layer_norm(X(), j),
    "layer_norm_eps": lambda j: F.layer_norm(X(), 3, eps=j),
    "cross_entropy_target": lambda j: F.cross_entropy(X(), j),
    "cross_entropy_reduction": lambda j: F.cross_entropy(X(), eager.tensor([0, 1]), j),
    "mse_loss": lambda j: F.mse_loss(X(), j),
    "linear_weight": lambda j: F.linear(X(), j),
    "conv2d_stride": lambda j: F.conv2d(eager.ones(1, 1, 3, 3), eager.ones(1, 1, 2, 2), stride=j),
    "max_pool2d_kernel": lambda j: F.max_pool2d(eager.ones(1, 1, 4, 4), j),
    "embedding": lambda j: F.embedding(j, eager.ones(3, 2)),
    "Linear_in": lambda j: nn.Linear(j, 2),
    "Linear_out": lambda j: nn.Linear(2, j),
    "Conv2d_channels": lambda j: nn.Conv2d(j, 2, 3),
    "Conv2d_kernel": lambda j: nn.Conv2d(1, 2, j),
    "Conv2d_stride": lambda j: nn.Conv2d(1, 2, 3, stride=j),
    "Conv2d_padding": lambda j: nn.Conv2d(1, 2, 3, padding=j),
    "Embedding_num": lambda j: nn.Embedding(j, 2),
    "Embedding_dim": lambda j: nn.Embedding(3, j),
    "LayerNorm": lambda j: nn.LayerNorm(j),
    "LayerNorm_eps": lambda j: nn.LayerNorm(3, eps=j),
    "Dropout": lambda j: nn.Dropout(j),
    "MaxPool2d": lambda j: nn.MaxPool2d(j),
    "Flatten": lambda j: nn.Flatten(j),
    "Sequential_index": lambda j: nn.Sequential(nn.ReLU())[j],
    "Module_train": lambda j: nn.ReLU().train(j),
    "Module_load_state_dict": lambda j: nn.Linear(2, 2).load_state_dict(j),
    "SGD_params": lambda j: optim.SGD(j, lr=0.1),
    "SGD_lr": lambda j: optim.SGD(P(), lr=j),
    "SGD_momentum": lambda j: optim.SGD(P(), lr=0.1, momentum=j),
    "Adam_betas": lambda j: optim.Adam(P(), betas=j),
    "Adam_eps": lambda j: optim.Adam(P(), eps=j),
    "AdamW_weight_decay": lambda j: optim.AdamW(P(), weight_decay=j),
    "set_lr": lambda j: OPT().set_lr(j),
    "StepLR": lambda j: lr_scheduler.StepLR(OPT(), j),
    "ExponentialLR": lambda j: lr_scheduler.ExponentialLR(OPT(), j),
    "CosineAnnealingLR": lambda j: lr_scheduler.CosineAnnealingLR(OPT(), j),
    "backward_gradient": lambda j: _step()[1].backward(gradient=j),
    "grad_inputs": lambda j: eager.grad(_step()[1], j),
    "grad_outputs": lambda j: eager.grad(j, _step()[0]),
    "broadcast_to": lambda j: eager.broadcast_to(X(), j),
    "take_axis": lambda j: eager.take(X(), eager.tensor([0]), axis=j),
    "take_indices": lambda j: eager.take(X(), j, axis=0),
    "moveaxis": lambda j: eager.moveaxis(X(), j, 0),
    "tensordot_axes": lambda j: eager.tensordot(X(), X(), axes=j),
    "std_correction": lambda j: X().std(correction=j),
    "clip": lambda j: X().clip(j),
    "fill_": lambda j: X().fill_(j),
    "matmul": lambda j: eager.matmul(X(), j),
    "where": lambda j: eager.where(j, X(), X()),
    "sort_axis": lambda j: eager.sort(X(), axis=j),
    "stack_axis": lambda j: eager.stack([X(), X()], axis=j),
    "to_device": lambda j: X().to(device=j),
    "requires_grad_": lambda j: X().requires_grad_(j),
    "Module_to": lambda j: nn.Linear(2, 2).to(j),
    "Parameter": lambda j: nn.Parameter(j),
    "init_uniform_": lambda j: nn.init.uniform_(X(), j, 1.0),
    "init_kaiming_a": lambda j: nn.init.kaiming_uniform_(X(), a=j),
    "init_xavier_gain": lambda j: nn.init.xavier_uniform_(X(), gain=j),
    "init_fan": lambda j: nn.init.fan_in_and_fan_out(j),
    "optimizer_load_state_dict": lambda j: OPT().load_state_dict(j),
    "scheduler_load_state_dict": lambda j: lr_scheduler.StepLR(OPT(), 1).load_state_dict(j),
    "gradcheck": lambda j: eager.autograd.gradcheck(j, [X()]),
    "sum_x": lambda j: eager.sum(j),
    "mean_x": lambda j: eager.mean(j),
    "all_x": lambda j: eager.all(j),
    "argmax_x": lambda j: eager.argmax(j),
    "reshape_x": lambda j: eager.reshape(j, -1),
    "transpose_x": lambda j: eager.transpose(j),
    "flatten_x": lambda j: eager.flatten(j),
    "sort_x": lambda j: eager.sort(j),
    "cumsum_x": lambda j: eager.cumsum(j),
    "floor_x": lambda j: eager.floor(j),
    "isinf_x": lambda j: eager.isinf(j),
    "exp_x": lambda j: eager.exp(j),
    "finfo": lambda j: eager.finfo(j),
    "iinfo": lambda j: eager.iinfo(j),
    "Linear_forward": lambda j: nn.Linear(3, 2)(j),
    "Flatten_forward": lambda j: nn.Flatten()(j),
    "Conv2d_forward": lambda j: nn.Conv2d(1, 2, 2)(j),
    "Embedding_forward": lambda j: nn.Embedding(3, 2)(j),
    "LayerNorm_forward": lambda j: nn.LayerNorm(3)(j),
    "jit_fn": lambda j: jit.jit(j),
    "jit_static_argnames": lambda j: jit.jit(_toy, static_argnames=j),
    "jit_max_variants": lambda j: jit.jit(_toy, max_variants=j),
    "jit_disable": lambda j: jit.jit(_toy, disable=j),
}


@given(name=st.sampled_from(sorted(SURFACE)), junk=_junk)
def test_generated_wrong_arguments_give_only_named_errors(name, junk):
    try:
        SURFACE[name](junk)
    except eager.EagerError:
        pass  # a named error; any other exception type fails the test


@given(dims=st.lists(st.integers(0, 3), max_size=3),
       spelling=st.sampled_from(["varargs", "tuple", "list", "numpy"]))
def test_generated_valid_shapes_still_work(dims, spelling):
    args = {"varargs": tuple(dims), "tuple": (tuple(dims),), "list": (list(dims),),
            "numpy": tuple(np.int64(d) for d in dims)}[spelling]
    for make in (eager.zeros, eager.ones, eager.empty, eager.rand, eager.randn):
        assert make(*args).shape == tuple(dims)
    x = eager.arange(math.prod(dims)).reshape(*args)
    assert x.shape == tuple(dims)
    expected = np.arange(math.prod(dims)).reshape(dims)
    for axis in range(-len(dims), len(dims)):
        assert x.sum(axis=axis).tolist() == expected.sum(axis=axis).tolist()


def test_jitted_loss_with_an_out_of_range_target_raises_target_error():
    # The range check is a host read, so a jitted step guards on it: a replay with a bad
    # target falls back to eager, which raises, instead of wrapping the index silently.
    model = nn.Linear(3, 4)

    @jit.jit
    def loss_of(x, y):
        return F.cross_entropy(model(x), y)

    x = eager.ones(2, 3)
    with eager.no_grad():
        good = loss_of(x, eager.tensor([0, 3])).item()
        assert loss_of(x, eager.tensor([0, 3])).item() == pytest.approx(good)
        assert loss_of.cache_info().hits == 1
        with pytest.raises(T, match="the first is -1"):
            loss_of(x, eager.tensor([0, -1]))

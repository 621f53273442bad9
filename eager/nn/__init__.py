"""eager.nn: modules, parameters and layers for building and training networks.

>>> import eager
>>> from eager import nn
>>> import eager.nn.functional as F
>>> _ = eager.manual_seed(0)
>>> model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
>>> loss = F.cross_entropy(model(eager.randn(8, 64)), eager.randint(0, 10, (8,)))
>>> loss.backward()
>>> model[0].weight.grad.shape
(128, 64)
"""
from eager.nn import functional, init
from eager.nn.containers import (
    Dropout,
    Flatten,
    Identity,
    MaxPool2d,
    ReLU,
    Sequential,
    Sigmoid,
    Tanh,
)
from eager.nn.errors import ArgumentError, ModuleError, StateDictError, TargetError
from eager.nn.layers import Conv2d, Embedding, LayerNorm, Linear
from eager.nn.module import LoadResult, Module
from eager.nn.parameter import Parameter

__all__ = [
    "ArgumentError",
    "Conv2d",
    "Dropout",
    "Embedding",
    "Flatten",
    "Identity",
    "LayerNorm",
    "Linear",
    "LoadResult",
    "MaxPool2d",
    "Module",
    "ModuleError",
    "Parameter",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "StateDictError",
    "Tanh",
    "TargetError",
    "functional",
    "init",
]

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
from eager.nn import functional, init, utils
from eager.nn.activations import ELU, GELU, LeakyReLU, LogSoftmax, Mish, SiLU, Softmax, Softplus
from eager.nn.attention import MultiheadAttention
from eager.nn.containers import (
    Dropout,
    Dropout2d,
    Flatten,
    Identity,
    MaxPool2d,
    ReLU,
    Sequential,
    Sigmoid,
    Tanh,
)
from eager.nn.errors import ArgumentError, ModuleError, StateDictError, TargetError
from eager.nn.instance_norm import InstanceNorm1d, InstanceNorm2d, InstanceNorm3d
from eager.nn.interpolation import Upsample, UpsamplingBilinear2d, UpsamplingNearest2d
from eager.nn.layers import Conv1d, Conv2d, ConvTranspose2d, Embedding, LayerNorm, Linear
from eager.nn.losses import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    SmoothL1Loss,
)
from eager.nn.module import LoadResult, Module, RemovableHandle
from eager.nn.module_containers import ModuleDict, ModuleList, ParameterDict, ParameterList
from eager.nn.normalization import BatchNorm1d, BatchNorm2d, GroupNorm
from eager.nn.padding import (
    ConstantPad1d,
    ConstantPad2d,
    ConstantPad3d,
    ReflectionPad1d,
    ReflectionPad2d,
    ReflectionPad3d,
    ReplicationPad1d,
    ReplicationPad2d,
    ReplicationPad3d,
    ZeroPad1d,
    ZeroPad2d,
    ZeroPad3d,
)
from eager.nn.parameter import Parameter
from eager.nn.pixel_shuffle import PixelShuffle, PixelUnshuffle
from eager.nn.pooling import AdaptiveAvgPool2d, AvgPool2d
from eager.nn.rnn import GRU, LSTM, RNN
from eager.nn.rnn_cells import GRUCell, LSTMCell, RNNCell
from eager.nn.transformer import (
    Transformer,
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
)

__all__ = [
    "ELU",
    "GELU",
    "GRU",
    "LSTM",
    "RNN",
    "AdaptiveAvgPool2d",
    "ArgumentError",
    "AvgPool2d",
    "BCELoss",
    "BCEWithLogitsLoss",
    "BatchNorm1d",
    "BatchNorm2d",
    "ConstantPad1d",
    "ConstantPad2d",
    "ConstantPad3d",
    "Conv1d",
    "Conv2d",
    "ConvTranspose2d",
    "CrossEntropyLoss",
    "Dropout",
    "Dropout2d",
    "Embedding",
    "Flatten",
    "GRUCell",
    "GroupNorm",
    "HuberLoss",
    "Identity",
    "InstanceNorm1d",
    "InstanceNorm2d",
    "InstanceNorm3d",
    "L1Loss",
    "LSTMCell",
    "LayerNorm",
    "LeakyReLU",
    "Linear",
    "LoadResult",
    "LogSoftmax",
    "MSELoss",
    "MaxPool2d",
    "Mish",
    "Module",
    "ModuleDict",
    "ModuleError",
    "ModuleList",
    "MultiheadAttention",
    "NLLLoss",
    "Parameter",
    "ParameterDict",
    "ParameterList",
    "PixelShuffle",
    "PixelUnshuffle",
    "RNNCell",
    "ReLU",
    "ReflectionPad1d",
    "ReflectionPad2d",
    "ReflectionPad3d",
    "RemovableHandle",
    "ReplicationPad1d",
    "ReplicationPad2d",
    "ReplicationPad3d",
    "Sequential",
    "SiLU",
    "Sigmoid",
    "SmoothL1Loss",
    "Softmax",
    "Softplus",
    "StateDictError",
    "Tanh",
    "TargetError",
    "Transformer",
    "TransformerDecoder",
    "TransformerDecoderLayer",
    "TransformerEncoder",
    "TransformerEncoderLayer",
    "Upsample",
    "UpsamplingBilinear2d",
    "UpsamplingNearest2d",
    "ZeroPad1d",
    "ZeroPad2d",
    "ZeroPad3d",
    "functional",
    "init",
    "utils",
]

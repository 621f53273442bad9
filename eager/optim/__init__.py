"""eager.optim: SGD, Adam, AdamW, RMSprop, Adagrad, Adadelta and LBFGS over a model's parameters.

>>> import eager
>>> from eager import nn, optim
>>> model = nn.Linear(3, 1)
>>> opt = optim.Adam(model.parameters(), lr=1e-2)
>>> model(eager.ones(2, 3)).sum().backward(); opt.step(); opt.zero_grad()
>>> model.weight.grad is None
True
"""
from eager.optim import lr_scheduler
from eager.optim.adam import Adam, AdamW
from eager.optim.adaptive import Adadelta, Adagrad, RMSprop
from eager.optim.lbfgs import LBFGS
from eager.optim.optimizer import Optimizer, OptimizerStateError
from eager.optim.param_group import ParamGroup
from eager.optim.sgd import SGD

__all__ = ["LBFGS", "SGD", "Adadelta", "Adagrad", "Adam", "AdamW", "Optimizer", "OptimizerStateError",
           "ParamGroup", "RMSprop", "lr_scheduler"]

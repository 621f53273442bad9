"""Learning-rate schedules with PyTorch's names (`eager.optim.lr_scheduler`).

Each schedule is a tensor expression of a tensor epoch counter, written into the
optimizer's lr tensors in place, so calling `scheduler.step()` eagerly, traced or inside a
jitted step gives the same rates (ReduceLROnPlateau decides in Python on a metric).

>>> import eager
>>> from eager import optim
>>> opt = optim.SGD([eager.zeros(1, requires_grad=True)], lr=0.1)
>>> sched = optim.lr_scheduler.LambdaLR(opt, lambda epoch: 0.5 ** epoch)
>>> sched.step(); sched.step(); [round(v, 4) for v in sched.get_last_lr()]
[0.025]
"""
from eager.optim.lr_scheduler.base import LRScheduler
from eager.optim.lr_scheduler.closed_form import (
    ConstantLR,
    CosineAnnealingLR,
    CosineAnnealingWarmRestarts,
    ExponentialLR,
    LambdaLR,
    LinearLR,
    MultiStepLR,
    PolynomialLR,
    StepLR,
)
from eager.optim.lr_scheduler.composite import OneCycleLR, SequentialLR
from eager.optim.lr_scheduler.plateau import ReduceLROnPlateau

__all__ = ["ConstantLR", "CosineAnnealingLR", "CosineAnnealingWarmRestarts", "ExponentialLR",
           "LRScheduler", "LambdaLR", "LinearLR", "MultiStepLR", "OneCycleLR", "PolynomialLR",
           "ReduceLROnPlateau", "SequentialLR", "StepLR"]

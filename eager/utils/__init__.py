"""`eager.utils`: PyTorch's `torch.utils` helpers (`eager.utils.data`,
`eager.utils.tensorboard`).

>>> import eager
>>> eager.utils.data.TensorDataset(eager.arange(3))[1]
(tensor(1),)
"""
from eager.utils import data, tensorboard

__all__ = ["data", "tensorboard"]

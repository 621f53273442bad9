"""The error a distribution raises for a bad parameter, sample shape or value.

It subclasses ValueError, what PyTorch's distributions raise, so `except ValueError`
written for torch keeps working.

>>> from eager.distributions.errors import DistributionError
>>> issubclass(DistributionError, ValueError)
True
"""
from kernels.errors import EagerError


class DistributionError(EagerError, ValueError):
    """A parameter outside its constraint, or a value outside a distribution's support
    or not broadcastable with its batch and event shape."""

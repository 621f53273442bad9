"""Special functions that no composite of the other primitives computes exactly: erf,
and atan2 (from which eager derives atan, asin and acos).

erf is what PyTorch's exact GELU needs. C99 and CUDA both have erf/erff, so the op fuses;
on numpy it runs scipy's vectorised erf when scipy is installed, else Python's math.erf
element by element (the same correctly rounded values, only slower).

>>> import numpy as np
>>> from kernels import OPS
>>> float(OPS.erf.cpu_kernel(np.array([0.5]))[0])
0.5204998778130465
"""
from __future__ import annotations

import math

import numpy as np

from kernels.elementwise import _binary, _same_dtype_rule
from kernels.opdef import OpDef, OpKind, register


def _erf_impl(xp):
    if xp is np:
        try:
            from scipy.special import erf as elementwise_erf
        except ImportError:
            elementwise_erf = np.frompyfunc(math.erf, 1, 1)
    else:
        from cupyx.scipy.special import erf as elementwise_erf

    def erf(x):
        # float16 and 0-d inputs come back as float64 or as scalars: keep x's dtype, as
        # the op's rule says.
        return xp.asarray(elementwise_erf(x), dtype=x.dtype)
    return erf


erf = register(OpDef("erf", OpKind.UNARY, 1, _erf_impl, _same_dtype_rule("erf", "f"),
                     c_expr="erf{f}({0})", input_kinds="f", functions=("erf",),
                     methods=("erf", "erf_")))

atan2 = _binary("atan2", "arctan2", "atan2{f}({0}, {1})", kinds="f",
                functions=("atan2", "arctan2"), methods=("atan2", "arctan2", "atan2_"))

"""`eager.__array_namespace_info__()`: the Array API inspection object (capabilities,
devices and dtypes of this namespace).

>>> import eager
>>> info = eager.__array_namespace_info__()
>>> info.default_dtypes()["real floating"], info.capabilities()["boolean indexing"]
(dtype('float32'), True)
>>> sorted(info.dtypes(kind="signed integer"))
['int16', 'int32', 'int64', 'int8']
"""
from __future__ import annotations

import numpy as np

from kernels import cupy_available
from kernels.dtypes import DTYPES

ARRAY_API_VERSION = "2024.12"

_KINDS = ("bool", "signed integer", "unsigned integer", "real floating", "complex floating",
          "integral", "numeric")


class Info:
    """What the Array API's inspection functions report for `eager`."""

    def capabilities(self) -> dict[str, bool | int | None]:
        """Optional features: boolean-mask indexing and value-dependent output shapes
        (nonzero, unique) are supported; the number of dimensions is numpy's limit.

        >>> Info().capabilities()["data-dependent shapes"]
        True
        """
        return {"boolean indexing": True, "data-dependent shapes": True,
                "max dimensions": 64}

    def default_device(self) -> str:
        """The device new tensors go to (`eager.get_default_device()`).

        >>> Info().default_device() in Info().devices()
        True
        """
        from eager.device import get_default_device

        return str(get_default_device())

    def devices(self) -> list[str]:
        """Every device this process can use.

        >>> "cpu" in Info().devices()
        True
        """
        return ["cpu", "cuda"] if cupy_available() else ["cpu"]

    def default_dtypes(self, *, device: str | None = None) -> dict[str, np.dtype]:
        """The default dtype of each kind (the same on every device).

        >>> Info().default_dtypes()["indexing"]
        dtype('int64')
        """
        from eager.dtypes import get_default_dtype

        dtypes = {"real floating": get_default_dtype(), "integral": np.dtype("int64"),
                  "indexing": np.dtype("int64")}
        if "complex64" in DTYPES:
            dtypes["complex floating"] = np.dtype(
                "complex128" if dtypes["real floating"] == np.float64 else "complex64")
        return dtypes

    def dtypes(self, *, device: str | None = None,
               kind: str | tuple[str, ...] | None = None) -> dict[str, np.dtype]:
        """The dtypes of `kind` (an Array API kind name or a tuple of them; None: all)
        by name.

        >>> sorted(Info().dtypes(kind=("bool", "unsigned integer")))
        ['bool', 'uint16', 'uint32', 'uint64', 'uint8']
        """
        from eager.dtypes import isdtype

        names = [n for n in ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16",
                             "uint32", "uint64", "float32", "float64", "complex64",
                             "complex128") if n in DTYPES]
        if kind is None:
            return {n: np.dtype(n) for n in names}
        for k in (kind if isinstance(kind, tuple) else (kind,)):
            if k not in _KINDS:
                raise ValueError(f"__array_namespace_info__().dtypes: unknown kind {k!r}; "
                                 f"expected one of {', '.join(_KINDS)}")
        return {n: np.dtype(n) for n in names if isdtype(np.dtype(n), kind)}


def __array_namespace_info__() -> Info:
    """The inspection object of the `eager` namespace (Array API 2023.12 and later).

    >>> __array_namespace_info__().devices()[0]
    'cpu'
    """
    return Info()

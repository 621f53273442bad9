"""Datasets shipped with eager-jit: the handwritten digits (see README.md here).

>>> from jit.data import load_digits
>>> images, labels = load_digits()
>>> images.shape, labels.shape, int(labels.max())
((1797, 64), (1797,), 9)
"""
from __future__ import annotations

import gzip
import os

import numpy as np

DIGITS_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "digits.csv.gz")


def load_digits(path: str = DIGITS_PATH) -> tuple[np.ndarray, np.ndarray]:
    """The 1,797 8x8 digit images as (1797, 64) float32 pixels in 0..16 and int64 labels.

    Each CSV row holds 64 pixel counts and the digit as its last column.
    """
    with gzip.open(path, "rt") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.int64)
    if table.ndim != 2 or table.shape[1] != 65:
        raise ValueError(f"load_digits: {path} should hold rows of 64 pixels and a label, "
                         f"got a table of shape {table.shape}")
    return table[:, :64].astype(np.float32), table[:, 64]

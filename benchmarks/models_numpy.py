"""W5 (the digits CNN) written by hand in numpy: im2col through a strided view, one
matmul per conv, max-pool as a reshape, the backward pass derived by hand, and Adam.

This is the floor a framework on numpy can hope for: no dispatch, no autograd tape.
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided


def _im2col(x: np.ndarray, k: int) -> np.ndarray:
    """(N, C, H + k - 1, W + k - 1) -> (N, C * k * k, H * W) for a stride-1 k x k conv."""
    n, c, hp, wp = x.shape
    h, w = hp - k + 1, wp - k + 1
    s = x.strides
    view = as_strided(x, (n, c, k, k, h, w), (s[0], s[1], s[2], s[3], s[2], s[3]))
    return view.reshape(n, c * k * k, h * w)


def _col2im(cols: np.ndarray, c: int, h: int, w: int, k: int) -> np.ndarray:
    """The adjoint of _im2col (padded gradient): one strided add per kernel offset."""
    n = cols.shape[0]
    cols = cols.reshape(n, c, k, k, h, w)
    out = np.zeros((n, c, h + k - 1, w + k - 1), cols.dtype)
    for i in range(k):
        for j in range(k):
            out[:, :, i:i + h, j:j + w] += cols[:, :, i, j]
    return out


class NumpyCNN:
    """W5's training step (cross-entropy, Adam 1e-3) in plain numpy."""

    def __init__(self, weights, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        self.params = [w.copy() for w in weights]
        self.m = [np.zeros_like(w) for w in weights]
        self.v = [np.zeros_like(w) for w in weights]
        self.t = 0
        self.lr, self.betas, self.eps = lr, betas, eps

    @staticmethod
    def _conv(x, w, b):
        n, _, h, wd = x.shape
        o = w.shape[0]
        cols = _im2col(np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1))), 3)
        out = (w.reshape(o, -1) @ cols + b[:, None]).reshape(n, o, h, wd)
        return out, cols

    @staticmethod
    def _conv_backward(dout, cols, w, shape, need_dx=True):
        n, c, h, wd = shape
        o = w.shape[0]
        d = dout.reshape(n, o, h * wd)
        dw = (d @ cols.transpose(0, 2, 1)).sum(axis=0).reshape(w.shape)
        db = d.sum(axis=(0, 2))
        if not need_dx:
            return None, dw, db
        dx = _col2im(w.reshape(o, -1).T @ d, c, h, wd, 3)[:, :, 1:-1, 1:-1]
        return dx, dw, db

    def step(self, x, y) -> float:
        w1, b1, w2, b2, wf, bf = self.params
        n = x.shape[0]
        a1, cols1 = self._conv(x, w1, b1)
        r1 = np.maximum(a1, 0)
        tiles = r1.reshape(n, 16, 4, 2, 4, 2)
        p1 = tiles.max(axis=(3, 5))
        a2, cols2 = self._conv(p1, w2, b2)
        r2 = np.maximum(a2, 0)
        flat = r2.reshape(n, -1)
        logits = flat @ wf.T + bf
        shifted = logits - logits.max(axis=1, keepdims=True)
        logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        loss = -logp[np.arange(n), y].mean()
        dlogits = np.exp(logp)
        dlogits[np.arange(n), y] -= 1
        dlogits /= n
        dwf, dbf = dlogits.T @ flat, dlogits.sum(0)
        da2 = (dlogits @ wf).reshape(r2.shape) * (a2 > 0)
        dp1, dw2, db2 = self._conv_backward(da2, cols2, w2, p1.shape)
        first = tiles == p1[:, :, :, None, :, None]
        dr1 = (first * dp1[:, :, :, None, :, None]).reshape(r1.shape)
        _, dw1, db1 = self._conv_backward(dr1 * (a1 > 0), cols1, w1, x.shape, need_dx=False)
        self._adam([dw1, db1, dw2, db2, dwf, dbf])
        return float(loss)

    def _adam(self, grads) -> None:
        self.t += 1
        beta1, beta2 = self.betas
        for p, g, m, v in zip(self.params, grads, self.m, self.v):
            m *= beta1
            m += (1 - beta1) * g
            v *= beta2
            v += (1 - beta2) * g * g
            denom = np.sqrt(v) / np.sqrt(1 - beta2 ** self.t) + self.eps
            p -= (self.lr / (1 - beta1 ** self.t)) * m / denom

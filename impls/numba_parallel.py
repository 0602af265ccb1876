"""Numba with threads: numba_jit's kernels, the samples of each mini-batch shared among them.

`NumbaParallel` runs the kernels of impls/numba_jit.py on several threads: each mini-batch is
cut into one chunk of samples per thread (`prange`), each chunk sums its gradient into its own
accumulator (no two threads write the same memory), and the accumulators are added in chunk
order, so a given thread count always gives the same bits. A batch too small to repay waking
the threads (XOR's) is computed on one.

The math is numba_jit's; only the loop over a batch's samples is cut into chunks.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numba import njit, prange

from .numba_jit import (
    NumbaJIT,
    add_gradient,
    aligned_empty,
    batch_loss_and_gradient,
    gradient_descent_step,
    kernel,
    layer_views,
    padded_length,
    predict,
)

# NumbaParallel wakes a thread only for at least this many multiply-adds of a batch's work (a
# few tens of microseconds); for less, starting and joining the thread costs more than it saves.
MIN_WORK_PER_THREAD = 100_000


@njit(cache=True, error_model="numpy", parallel=True)
def predict_parallel(params, net, X, out, chunk_work):
    """predict, with the samples cut into one chunk per thread."""
    Zs, As, Ds = chunk_work
    n, n_chunks = len(X), len(Zs)
    if n_chunks == 1:  # too little work to share: wake no threads
        predict(params, net, X, out, (Zs[0], As[0], Ds[0]))
        return
    for c in prange(n_chunks):
        lo, hi = c * n // n_chunks, (c + 1) * n // n_chunks
        predict(params, net, X[lo:hi], out[lo:hi], (Zs[c], As[c], Ds[c]))


@njit(cache=True, error_model="numpy", parallel=True)
def batch_loss_and_gradient_parallel(params, net, X, Y, grads, chunk_grads, chunk_work,
                                     chunk_loss):
    """batch_loss_and_gradient with the samples cut into one chunk per thread.

    Each chunk has its own gradient accumulator and scratch arrays, so threads never write the
    same memory; the chunks' sums are then added in chunk order, the same every time.
    """
    Zs, As, Ds = chunk_work
    n, n_chunks = len(X), min(len(chunk_grads), len(X))
    if n_chunks == 1:  # too little work to share: wake no threads
        return batch_loss_and_gradient(params, net, X, Y, grads, (Zs[0], As[0], Ds[0]))
    for c in prange(n_chunks):
        lo, hi = c * n // n_chunks, (c + 1) * n // n_chunks
        chunk_grads[c, :] = 0
        chunk_loss[c] = add_gradient(params, net, X, Y, lo, hi, n, chunk_grads[c], Zs[c],
                                     As[c], Ds[c])
    for p in prange(len(grads)):
        total = chunk_grads[0, p]
        for c in range(1, n_chunks):
            total += chunk_grads[c, p]
        grads[p] = total
    loss = 0.0
    for c in range(n_chunks):  # a plain loop: an array expression here would wake threads too
        loss += chunk_loss[c]
    return loss


@kernel
def train_epochs_parallel(params, net, X, Y, epochs, lr, batch_size, grads, chunk_grads,
                          chunk_work, chunk_loss, losses):
    """train_epochs, with each batch's gradient from batch_loss_and_gradient_parallel."""
    n = len(X)
    for epoch in range(epochs):
        total = 0.0
        for start in range(0, n, batch_size):
            stop = min(start + batch_size, n)
            loss = batch_loss_and_gradient_parallel(params, net, X[start:stop], Y[start:stop],
                                                    grads, chunk_grads, chunk_work, chunk_loss)
            gradient_descent_step(params, grads, lr)
            total += (stop - start) * loss
        losses[epoch] = total / n
        if not math.isfinite(losses[epoch]):
            return epoch + 1
    return epochs


# ---- the common interface ----


class NumbaParallel(NumbaJIT):
    """The same kernels, with the samples of each batch shared among Numba's threads."""

    name = "numba-parallel"

    def _chunks(self, n_samples):
        """A gradient accumulator, scratch arrays and a loss for each chunk (one per thread).

        Only as many chunks as have MIN_WORK_PER_THREAD multiply-adds each: XOR's batches of 4
        run on one thread, MNIST's on all of them.
        """
        work = n_samples * sum(n_in * n_out for n_in, n_out in self.spec.layer_shapes)
        n_chunks = max(1, min(numba.get_num_threads(), n_samples, work // MIN_WORK_PER_THREAD))
        per_chunk = -(-n_samples // n_chunks)
        # Each chunk's accumulator is a row padded to whole cache lines, so that every row
        # starts on one (the kernels never read past the parameters' length).
        row = padded_length(len(self.params), self.dtype)
        return (aligned_empty((n_chunks, row), self.dtype),
                self._work(per_chunk, copies=n_chunks), np.empty(n_chunks))

    def _forward(self, X):
        out = np.empty((len(X), self.spec.n_outputs), self.dtype)
        _, chunk_work, _ = self._chunks(len(X))
        predict_parallel(self.params, self.net, X, out, chunk_work)
        return out

    def _loss_and_grads(self, X, Y):
        grads = self._gradient_array()
        loss = batch_loss_and_gradient_parallel(self.params, self.net, X, Y, grads,
                                                *self._chunks(len(X)))
        return loss, layer_views(grads, self.net)

    def _train_epochs(self, X, Y, epochs, lr, batch_size):
        losses = np.empty(epochs)
        done = train_epochs_parallel(self.params, self.net, X, Y, epochs, self.dtype.type(lr),
                                     batch_size, self._gradient_array(),
                                     *self._chunks(batch_size), losses)
        return losses[:done].tolist()

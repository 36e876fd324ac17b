"""Running a model over any number of examples in batches of one fixed size.

    mu, sigma = run_in_batches(lambda index, x, l: model.encode_compiled(x, l), [inputs, lengths], 8)

Every batch has `batch_size` rows: the last one is padded with zero rows (dropped from the
results), so a compiled function sees one shape and is traced once. `pad=False` runs the last
batch with the rows it has instead.

`workers=2` runs the batches after the first two at a time (threads; TensorFlow releases the GIL
while a function runs). Sampling a large model with few rows per batch is bound by reading its
weights from memory, and two batches at once share that read: `TrainedModel.sample` of 64
hierdec-mel_16bar samples at batch 8 took 3.2-3.3 s instead of 4.2-4.4 s (a 2-core AMD EPYC,
2026-12-02; docs/benchmarks.md). The first batch runs alone, so that a
compiled function is traced once; `function` must then be safe to call from two threads at once
and give each batch's result regardless of order (e.g. stateless random draws seeded per batch).
"""

import concurrent.futures
import os

import numpy as np
import tensorflow as tf


def run_in_batches(function, arrays, batch_size, pad=True, workers=1):
    """`function(batch_index, *batch)` over consecutive batches of `arrays` (numpy arrays with the
    same number of rows n); returns its results (tensors, arrays or structures of them, each with
    the batch as first dimension) concatenated over the batches, n rows each. `workers` > 1 runs
    the batches after the first that many at a time (see the module docstring)."""
    arrays = [np.asarray(array) for array in arrays]
    n = len(arrays[0])
    if n == 0:
        raise ValueError("run_in_batches needs at least one row")

    def run(index):
        begin = index * batch_size
        batch = [array[begin:begin + batch_size] for array in arrays]
        rows = len(batch[0])
        if pad and rows < batch_size:
            batch = [np.concatenate([part, np.zeros((batch_size - rows,) + part.shape[1:], part.dtype)])
                     for part in batch]
        result = function(index, *batch)
        return tf.nest.map_structure(lambda t: np.asarray(t)[:rows], result)

    num_batches = -(-n // batch_size)
    results = [run(0)]
    if workers > 1 and num_batches > 2:
        with concurrent.futures.ThreadPoolExecutor(workers) as pool:
            results.extend(pool.map(run, range(1, num_batches)))
    else:
        results.extend(run(index) for index in range(1, num_batches))
    return tf.nest.map_structure(lambda *parts: np.concatenate(parts), *results)


def default_workers():
    """Concurrent batches for sampling: 2 where the process may use at least 2 cores, else 1."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # (not on every platform)
        cores = os.cpu_count() or 1
    return 2 if cores >= 2 else 1

"""Running a model over any number of examples in batches of one fixed size.

    mu, sigma = run_in_batches(lambda index, x, l: model.encode_compiled(x, l), [inputs, lengths], 8)

Every batch has `batch_size` rows: the last one is padded with zero rows (dropped from the
results), so a compiled function sees one shape and is traced once. `pad=False` runs the last
batch with the rows it has instead.
"""

import numpy as np
import tensorflow as tf


def run_in_batches(function, arrays, batch_size, pad=True):
    """`function(batch_index, *batch)` over consecutive batches of `arrays` (numpy arrays with the
    same number of rows n); returns its results (tensors, arrays or structures of them, each with
    the batch as first dimension) concatenated over the batches, n rows each."""
    arrays = [np.asarray(array) for array in arrays]
    n = len(arrays[0])
    if n == 0:
        raise ValueError("run_in_batches needs at least one row")
    results = []
    for index, begin in enumerate(range(0, n, batch_size)):
        batch = [array[begin:begin + batch_size] for array in arrays]
        rows = len(batch[0])
        if pad and rows < batch_size:
            batch = [np.concatenate([part, np.zeros((batch_size - rows,) + part.shape[1:], part.dtype)])
                     for part in batch]
        result = function(index, *batch)
        results.append(tf.nest.map_structure(lambda t: np.asarray(t)[:rows], result))
    return tf.nest.map_structure(lambda *parts: np.concatenate(parts), *results)

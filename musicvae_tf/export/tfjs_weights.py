"""TensorFlow.js weight files: `weights_manifest.json` plus binary shards, as `tf.io.loadWeights` reads them.

The manifest is a list of groups `{"paths": [shard file names], "weights": [entries]}`; each entry
is `{"name", "shape", "dtype": "float32"}` and, for quantized weights, `"quantization"`:
  - `{"dtype": "float16"}`: the values are stored as IEEE half floats;
  - `{"dtype": "uint8", "min": m, "scale": s}`: value = q * s + m for a stored byte q.
The shards are the concatenation of all entries' bytes (little-endian, in manifest order), cut
into files of at most `shard_bytes` (tfjs' converter cuts at 4 MB too, so a browser fetches
several files in parallel).
"""

import json
import os

import numpy as np

MANIFEST_FILE = "weights_manifest.json"
SHARD_BYTES = 4 * 1024 * 1024
QUANTIZATIONS = (None, "float16", "uint8")


def quantize_uint8(values):
    """(bytes as uint8, min, scale) with value ~= q * scale + min and 0.0 stored exactly.

    The range is widened to include 0 and nudged so that 0 falls on a code: zero weights (padding
    rows, unused gates) then stay exactly zero after decoding.
    """
    values = np.asarray(values, np.float32)
    low = min(float(values.min()) if values.size else 0.0, 0.0)
    high = max(float(values.max()) if values.size else 0.0, 0.0)
    if high == low:
        return np.zeros(values.shape, np.uint8), low, 1.0
    scale = (high - low) / 255.0
    zero_code = round(-low / scale)
    low = -zero_code * scale
    codes = np.clip(np.round((values - low) / scale), 0, 255).astype(np.uint8)
    return codes, float(low), float(scale)


def dequantize(data, entry):
    """The float32 values tfjs decodes from `data` (the entry's bytes) - used by the tests."""
    quantization = entry.get("quantization")
    shape = entry["shape"]
    if quantization is None:
        return np.frombuffer(data, "<f4").reshape(shape)
    if quantization["dtype"] == "float16":
        return np.frombuffer(data, "<f2").astype(np.float32).reshape(shape)
    codes = np.frombuffer(data, np.uint8).astype(np.float32)
    return (codes * np.float32(quantization["scale"]) + np.float32(quantization["min"])).reshape(shape)


def _encode(name, values, quantization):
    values = np.ascontiguousarray(values, np.float32)
    entry = {"name": name, "shape": [int(d) for d in values.shape], "dtype": "float32"}
    if quantization is None:
        return entry, values.astype("<f4").tobytes()
    if quantization == "float16":
        entry["quantization"] = {"dtype": "float16"}
        return entry, values.astype("<f2").tobytes()
    if quantization == "uint8":
        codes, low, scale = quantize_uint8(values)
        entry["quantization"] = {"dtype": "uint8", "min": low, "scale": scale}
        return entry, codes.tobytes()
    raise ValueError(f"unknown quantization {quantization!r}; use one of float16, uint8")


def write_weights(weights, directory, quantization=None, shard_bytes=SHARD_BYTES):
    """Writes `weights` ({name: array}, in that order) as a manifest and shards into `directory`.

    Returns the list of files written (manifest first). Existing files of the same names are
    replaced: the caller decides whether `directory` may be written to.
    """
    if quantization not in QUANTIZATIONS:
        raise ValueError(f"unknown quantization {quantization!r}; use one of float16, uint8")
    entries, blobs = [], []
    for name, values in weights.items():
        entry, data = _encode(name, values, quantization)
        entries.append(entry)
        blobs.append(data)
    payload = b"".join(blobs)
    count = max(1, -(-len(payload) // shard_bytes))
    paths = [f"group1-shard{i + 1}of{count}.bin" for i in range(count)]
    for i, path in enumerate(paths):
        with open(os.path.join(directory, path), "wb") as f:
            f.write(payload[i * shard_bytes:(i + 1) * shard_bytes])
    manifest = [{"paths": paths, "weights": entries}]
    with open(os.path.join(directory, MANIFEST_FILE), "w") as f:
        json.dump(manifest, f, indent=1)
    return [MANIFEST_FILE] + paths


def read_weights(directory):
    """{name: float32 array} decoded from a manifest and its shards, as tfjs decodes them."""
    with open(os.path.join(directory, MANIFEST_FILE)) as f:
        manifest = json.load(f)
    weights = {}
    for group in manifest:
        payload = b"".join(open(os.path.join(directory, p), "rb").read() for p in group["paths"])
        offset = 0
        for entry in group["weights"]:
            quantization = entry.get("quantization")
            item_bytes = {None: 4, "float16": 2, "uint8": 1}[quantization and quantization["dtype"]]
            size = int(np.prod(entry["shape"], dtype=np.int64)) * item_bytes
            weights[entry["name"]] = dequantize(payload[offset:offset + size], entry)
            offset += size
    return weights

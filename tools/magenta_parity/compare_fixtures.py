"""Compares fixtures that make_fixtures.py wrote with the committed ones, file by file.

    python tools/magenta_parity/compare_fixtures.py /tmp/parity tests/data/magenta_parity

For every case folder in the first directory that the second also has: each array of reference.npz
and converter.npz (the committed files may hold only the first rows: the same rows are compared),
as the largest absolute difference for floats and the number of differing entries otherwise, and
whether the records of converter_decoded.tfrecord are byte-identical. Exit status 1 when a float
differs by more than --atol or anything else differs at all (greedy samples must be equal).
"""

import argparse
import os
import sys

import numpy as np

FLOAT_KINDS = "fc"


def compare_arrays(made, committed, atol):
    """[(key, description, ok)] for the arrays both files hold; rows cut to the committed count."""
    rows = []
    for key in sorted(set(made.files) & set(committed.files)):
        new, old = made[key], committed[key]
        if new.ndim and old.ndim:
            new = new[:len(old)]
        if new.shape != old.shape:
            rows.append((key, f"shape {new.shape} != {old.shape}", False))
        elif new.dtype.kind in FLOAT_KINDS and old.dtype.kind in FLOAT_KINDS:
            diff = float(np.max(np.abs(new.astype(np.float64) - old.astype(np.float64)), initial=0.0))
            rows.append((key, f"max |diff| {diff:.2g}", diff <= atol))
        else:
            differing = int(np.sum(new.astype(np.float64) != old.astype(np.float64)))
            rows.append((key, f"{differing} of {old.size} differ", differing == 0))
    return rows


def compare_records(made_path, committed_path):
    import tensorflow as tf

    made = list(tf.data.TFRecordDataset(made_path).as_numpy_iterator())
    committed = list(tf.data.TFRecordDataset(committed_path).as_numpy_iterator())
    same = sum(a == b for a, b in zip(made, committed))
    ok = len(made) == len(committed) == same
    return f"{same} of {len(committed)} records identical (made {len(made)})", ok


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("made", help="the --out folder of make_fixtures.py")
    parser.add_argument("committed", help="e.g. tests/data/magenta_parity")
    parser.add_argument("--atol", type=float, default=1e-4)
    args = parser.parse_args(argv)
    all_ok = True
    for case in sorted(os.listdir(args.made)):
        if not os.path.isdir(os.path.join(args.committed, case)):
            continue
        for name in ("converter.npz", "reference.npz"):
            made, committed = (os.path.join(root, case, name) for root in (args.made, args.committed))
            if os.path.exists(made) and os.path.exists(committed):
                for key, description, ok in compare_arrays(np.load(made), np.load(committed), args.atol):
                    all_ok &= ok
                    print(f"{case} {name} {key}: {description}{'' if ok else '  <-- DIFFERS'}")
        made, committed = (os.path.join(root, case, "converter_decoded.tfrecord")
                           for root in (args.made, args.committed))
        if os.path.exists(made) and os.path.exists(committed):
            description, ok = compare_records(made, committed)
            all_ok &= ok
            print(f"{case} converter_decoded.tfrecord: {description}{'' if ok else '  <-- DIFFERS'}")
    print("all within tolerance" if all_ok else "differences beyond tolerance")
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())

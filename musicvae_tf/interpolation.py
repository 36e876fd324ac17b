"""Spherical linear interpolation between latent vectors.

The single implementation used by `TrainedModel.interpolate` and by `music_vae_generate
--mode=interpolate`. Interpolating along the great circle keeps intermediate codes at a norm
typical for a Gaussian latent space, whereas a straight line passes close to the origin.
"""

import numpy as np

# Below this angle (radians) between the two vectors the great-circle formula divides by
# almost zero; a straight line is then indistinguishable and numerically safe.
_PARALLEL_ANGLE = 1e-6


def slerp(p0, p1, t):
    """Spherical interpolation from `p0` (t=0) to `p1` (t=1).

    Args:
      p0, p1: vectors of the same shape (any shape; treated as flat vectors for the angle).
      t: a scalar or a 1-D array of fractions. t=0 returns p0 and t=1 returns p1 exactly.

    Returns:
      An array shaped like `p0` for a scalar `t`, else [len(t)] + p0.shape.
    """
    p0 = np.asarray(p0, dtype=np.float64)
    p1 = np.asarray(p1, dtype=np.float64)
    if p0.shape != p1.shape:
        raise ValueError(f"slerp needs vectors of one shape, got {p0.shape} and {p1.shape}")
    scalar_t = np.ndim(t) == 0
    ts = np.atleast_1d(np.asarray(t, dtype=np.float64))
    if ts.ndim != 1:
        raise ValueError("t must be a scalar or a 1-D array of fractions")

    norm0 = np.linalg.norm(p0)
    norm1 = np.linalg.norm(p1)
    if norm0 == 0.0 or norm1 == 0.0:
        omega = 0.0
    else:
        cosine = np.dot(p0.ravel() / norm0, p1.ravel() / norm1)
        omega = float(np.arccos(np.clip(cosine, -1.0, 1.0)))

    results = []
    for fraction in ts:
        if fraction == 0.0:
            results.append(p0.copy())
        elif fraction == 1.0:
            results.append(p1.copy())
        elif omega < _PARALLEL_ANGLE:
            results.append((1.0 - fraction) * p0 + fraction * p1)
        else:
            sin_omega = np.sin(omega)
            results.append(np.sin((1.0 - fraction) * omega) / sin_omega * p0
                           + np.sin(fraction * omega) / sin_omega * p1)
    out = np.stack(results)
    return out[0] if scalar_t else out


def slerp_path(p0, p1, num_steps, dtype=np.float32):
    """`num_steps` codes from p0 to p1 along the great circle, both endpoints included."""
    if num_steps < 1:
        raise ValueError(f"num_steps must be at least 1, got {num_steps}")
    fractions = np.linspace(0.0, 1.0, num_steps)
    # Keep the endpoints bit-identical to the inputs in the requested dtype.
    path = slerp(p0, p1, fractions).astype(dtype)
    path[0] = np.asarray(p0, dtype=dtype)
    if num_steps > 1:
        path[-1] = np.asarray(p1, dtype=dtype)
    return path

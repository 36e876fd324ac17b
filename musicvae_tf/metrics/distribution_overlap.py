"""Yang & Lerch's (2020) comparison of two sets of per-sequence features.

For one feature, with a reference set R (held-out data) and a generated set G:
  * intra-set distances: the Euclidean distance between every pair of distinct members of a set
    (absolute difference for scalar features), for R and for G;
  * inter-set distances: the distance from every member of G to every member of R;
  * each distance sample is smoothed into a density by a Gaussian kernel density estimate (KDE);
  * overlapping area OA = integral of min(p_intra(R), p_inter) dx: 1 when the generated set lies
    among the reference data as the reference data lie among themselves, near 0 when the sets
    are far apart;
  * KL divergence KL(p_intra(R) || p_inter) >= 0: 0 when the two densities are equal.

    report = compare_sets(features_reference, features_generated, seed=0)
    report["pitch_count"]["overlap_area"]

Numerical choices (written here because they change the figures slightly):
  * KDE bandwidth by Scott's rule, as scipy.stats.gaussian_kde: h = std(x, ddof=1) * n ** -0.2.
    When all distances of a set are equal (std 0), h = 1e-3 * max(range of both samples, 1).
  * Both densities are evaluated on one grid of `grid_size` points from min - 4 h to max + 4 h
    over both samples (h the larger bandwidth), so each density holds all but ~1e-4 of its mass;
    integrals use the trapezoid rule. Yang & Lerch's toolbox integrates over [min, max] of the
    data only, which cuts the kernel tails: its OA of two identical sets is below 1.
  * KL is computed on the grid with both densities normalised to sum to 1 there and q floored
    at 1e-300 (so it stays finite, if large, where the inter-set density vanishes).
  * Sets larger than `max_pairs` distances are subsampled (without replacement, from `seed`) before
    the KDE; the mean/std columns use all distances. Everything is deterministic given `seed`.
  * Members whose feature is NaN (e.g. the inter-onset interval of a one-note sequence) are
    left out of that feature; their number is reported.
"""

import numpy as np

DEFAULT_GRID_SIZE = 1000
DEFAULT_MAX_PAIRS = 20000
_KDE_CHUNK = 2048
_FLOOR = 1e-300
_trapezoid = getattr(np, "trapezoid", None) or np.trapz  # numpy < 2 has only trapz


def _as_matrix(values):
    values = np.asarray(values, np.float64)
    if values.ndim == 1:
        values = values[:, None]
    if values.ndim != 2:
        raise ValueError(f"feature values must be [n] or [n, d], got shape {values.shape}")
    return values


def drop_missing(values):
    """(rows without NaN as [n, d], number dropped)."""
    values = _as_matrix(values)
    keep = ~np.isnan(values).any(axis=1)
    return values[keep], int((~keep).sum())


def intra_set_distances(values):
    """Distances between all unordered pairs of distinct members: [n * (n - 1) / 2]."""
    values = _as_matrix(values)
    n = len(values)
    parts = [np.linalg.norm(values[i + 1:] - values[i], axis=1) for i in range(n - 1)]
    return np.concatenate(parts) if parts else np.zeros([0])


def inter_set_distances(values_a, values_b):
    """Distances from every member of `values_a` to every member of `values_b`: [n_a * n_b]."""
    values_a, values_b = _as_matrix(values_a), _as_matrix(values_b)
    if values_a.shape[1] != values_b.shape[1]:
        raise ValueError(f"feature depths differ: {values_a.shape[1]} vs {values_b.shape[1]}")
    parts = [np.linalg.norm(values_b - row, axis=1) for row in values_a]
    return np.concatenate(parts) if parts else np.zeros([0])


def scott_bandwidth(sample, fallback):
    """Scott's rule for a 1-D sample; `fallback` when the sample has no spread."""
    sample = np.asarray(sample, np.float64)
    spread = np.std(sample, ddof=1) if len(sample) > 1 else 0.0
    if not np.isfinite(spread) or spread <= 0:
        return float(fallback)
    return float(spread * len(sample) ** -0.2)


def gaussian_kde(sample, grid, bandwidth):
    """Density of a Gaussian KDE of `sample` with `bandwidth`, evaluated at `grid`."""
    sample = np.asarray(sample, np.float64)
    grid = np.asarray(grid, np.float64)
    density = np.zeros_like(grid)
    for begin in range(0, len(sample), _KDE_CHUNK):
        chunk = sample[begin:begin + _KDE_CHUNK]
        offsets = (grid[:, None] - chunk[None, :]) / bandwidth
        density += np.exp(-0.5 * offsets * offsets).sum(axis=1)
    return density / (len(sample) * bandwidth * np.sqrt(2.0 * np.pi))


def overlap_and_kl(sample_p, sample_q, grid_size=DEFAULT_GRID_SIZE):
    """(overlapping area, KL(p || q)) of the KDEs of two 1-D samples (each of 2+ values)."""
    sample_p = np.asarray(sample_p, np.float64)
    sample_q = np.asarray(sample_q, np.float64)
    if len(sample_p) < 2 or len(sample_q) < 2:
        return float("nan"), float("nan")
    low = min(sample_p.min(), sample_q.min())
    high = max(sample_p.max(), sample_q.max())
    fallback = 1e-3 * max(high - low, 1.0)
    h_p = scott_bandwidth(sample_p, fallback)
    h_q = scott_bandwidth(sample_q, fallback)
    margin = 4.0 * max(h_p, h_q)
    grid = np.linspace(low - margin, high + margin, grid_size)
    p = gaussian_kde(sample_p, grid, h_p)
    q = gaussian_kde(sample_q, grid, h_q)
    overlap = float(_trapezoid(np.minimum(p, q), grid))
    p_mass = p / p.sum()
    q_mass = np.maximum(q / q.sum(), _FLOOR)
    positive = p_mass > 0
    kl = float(np.sum(p_mass[positive] * np.log(p_mass[positive] / q_mass[positive])))
    return overlap, max(kl, 0.0)


def _subsample(distances, max_pairs, rng):
    if max_pairs and len(distances) > max_pairs:
        return distances[np.sort(rng.choice(len(distances), size=max_pairs, replace=False))]
    return distances


def _summary(distances):
    if not len(distances):
        return float("nan"), float("nan")
    return float(np.mean(distances)), float(np.std(distances))


def compare_feature(reference, generated, seed=0, grid_size=DEFAULT_GRID_SIZE, max_pairs=DEFAULT_MAX_PAIRS):
    """Yang & Lerch's figures for one feature: reference [n] or [n, d] vs generated [m] or [m, d].

    Returns a dict: reference/generated intra-set distance mean and std, inter-set mean and std,
    overlap_area, kl_divergence, the number of members used and dropped (NaN) per set.
    """
    reference, dropped_reference = drop_missing(reference)
    generated, dropped_generated = drop_missing(generated)
    rng = np.random.default_rng(seed)
    intra_reference = intra_set_distances(reference)
    intra_generated = intra_set_distances(generated)
    inter = inter_set_distances(generated, reference)
    overlap, kl = overlap_and_kl(_subsample(intra_reference, max_pairs, rng),
                                 _subsample(inter, max_pairs, rng), grid_size)
    result = {
        "overlap_area": overlap,
        "kl_divergence": kl,
        "num_reference": len(reference), "num_generated": len(generated),
        "dropped_reference": dropped_reference, "dropped_generated": dropped_generated,
    }
    for key, distances in (("intra_reference", intra_reference), ("intra_generated", intra_generated),
                           ("inter", inter)):
        result[f"{key}_mean"], result[f"{key}_std"] = _summary(distances)
    return result


def compare_sets(reference_features, generated_features, seed=0, grid_size=DEFAULT_GRID_SIZE,
                 max_pairs=DEFAULT_MAX_PAIRS):
    """`compare_feature` for every feature of two {name: values} dicts (same names)."""
    missing = sorted(set(reference_features) ^ set(generated_features))
    if missing:
        raise ValueError(f"feature sets differ in: {', '.join(missing)}")
    return {name: compare_feature(reference_features[name], generated_features[name],
                                  seed=seed + index, grid_size=grid_size, max_pairs=max_pairs)
            for index, name in enumerate(reference_features)}

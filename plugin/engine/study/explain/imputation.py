"""ROAD's noisy linear imputation (Rong et al. 2022, "A Consistent and Efficient Evaluation Strategy
for Attribution Methods"): removed pixels are not painted grey, which a model can read as a
shape, but filled from their neighbours.

Every removed pixel equals the weighted mean of its eight neighbours (the four beside it weighted
1/6, the four diagonal 1/12, as the paper's code does), known neighbours on the right-hand side:
one sparse linear system for all removed pixels, solved once for the three colours. Small noise
(`NOISE`, on 0..255) is added so the filled region carries no trace of the removal's outline.
"""

from __future__ import annotations

import numpy as np

__all__ = ["impute", "NOISE"]

NOISE = 2.55
"""The noise's standard deviation on 0..255 (the paper's 0.01 on 0..1)."""

_NEIGHBOURS = ((-1, 0, 1 / 6), (1, 0, 1 / 6), (0, -1, 1 / 6), (0, 1, 1 / 6),
               (-1, -1, 1 / 12), (-1, 1, 1 / 12), (1, -1, 1 / 12), (1, 1, 1 / 12))


def impute(pixels: np.ndarray, removed: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """`pixels` (H, W, C) with the `removed` ones (a boolean (H, W) mask) filled from their neighbours."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.linalg import spsolve

    height, width = removed.shape
    filled = np.array(pixels, dtype=np.float64, copy=True)
    rows_removed, columns_removed = np.nonzero(removed)
    unknowns = len(rows_removed)
    if unknowns == 0:
        return filled.astype(np.float32)
    number = -np.ones((height, width), dtype=np.int64)
    number[rows_removed, columns_removed] = np.arange(unknowns)
    diagonal = np.zeros(unknowns)
    right = np.zeros((unknowns, pixels.shape[-1]))
    entries_row, entries_column, entries_value = [], [], []
    for down, across, weight in _NEIGHBOURS:
        rows, columns = rows_removed + down, columns_removed + across
        inside = (rows >= 0) & (rows < height) & (columns >= 0) & (columns < width)
        diagonal[inside] += weight
        own = np.nonzero(inside)[0]
        neighbour = number[rows[inside], columns[inside]]
        unknown = neighbour >= 0
        entries_row.append(own[unknown])
        entries_column.append(neighbour[unknown])
        entries_value.append(np.full(unknown.sum(), -weight))
        known = ~unknown
        right[own[known]] += weight * pixels[rows[inside][known], columns[inside][known]]
    entries_row.append(np.arange(unknowns))
    entries_column.append(np.arange(unknowns))
    entries_value.append(diagonal)
    matrix = coo_matrix((np.concatenate(entries_value), (np.concatenate(entries_row), np.concatenate(entries_column))),
                        shape=(unknowns, unknowns)).tocsc()
    solved = np.asarray(spsolve(matrix, right)).reshape(unknowns, -1)
    filled[rows_removed, columns_removed] = solved + rng.normal(0.0, NOISE, solved.shape)
    return np.clip(filled, 0, 255).astype(np.float32)

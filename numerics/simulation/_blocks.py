"""The host loop shared by the engines (`record_blocks`): records in jitted blocks, one progress
bar, an early stop after a divergence (the remaining records are NaN; `simulate` reports the
step)."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["DIVERGENCE_BOUND", "block_size", "diverged", "pad_nan", "progress_bar", "record_blocks"]

DIVERGENCE_BOUND = 1e10
"""|overlap| beyond which a run counts as diverged."""


def block_size(n_rec: int) -> int:
    """Records per jitted call: a divisor of n_rec giving about 10 host round trips."""
    target = max(1, math.ceil(n_rec / 10))
    return max(c for c in range(1, target + 1) if n_rec % c == 0)


def pad_nan(x: np.ndarray, T: int) -> np.ndarray:
    """x (S, T', ...) padded with NaN records to (S, T, ...)."""
    pad = np.full((x.shape[0], T - x.shape[1], *x.shape[2:]), np.nan, dtype=x.dtype)
    return np.concatenate([x, pad], axis=1)


def diverged(*arrays) -> bool:
    """Whether any entry is non-finite or beyond DIVERGENCE_BOUND."""
    return any(not bool(np.all(np.isfinite(x))) or bool(np.any(np.abs(x) > DIVERGENCE_BOUND))
               for x in arrays)


def progress_bar(progress: bool, n_steps: int, engine: str, scenario, d: int):
    """A tqdm bar over SGD steps (None when progress is off)."""
    if not progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=n_steps, desc=f"simulate ({engine}) d={d} p={scenario.p}", unit="step",
                leave=False)


def record_blocks(block, first, n_rec: int, per_block: int, steps_per_record: int,
                  bar) -> dict[str, np.ndarray]:
    """The host loop of every engine: call `block(done)` (records done so far ->
    (Q, M, a) for the next per_block records, each (S, per_block, ...)) until n_rec records,
    after the first record `first` = (Q0, M0, a0) of shape (S, ...); stop after a block
    that diverged and pad the missing records with NaN (`simulate` reports the step).

    Returns:
        dict with Q (S, T, p, p), M (S, T, p, k), a (S, T, p), T = n_rec + 1.
    """
    records = [tuple(np.asarray(x)[:, None] for x in first)]
    done = 0
    while done < n_rec:
        recs = tuple(np.asarray(x) for x in block(done))
        records.append(recs)
        done += per_block
        if bar is not None:
            bar.update(per_block * steps_per_record)
        if diverged(*recs):
            break
    if bar is not None:
        bar.close()
    Q, M, a = (np.concatenate(parts, axis=1) for parts in zip(*records, strict=True))
    if Q.shape[1] < n_rec + 1:
        Q, M, a = (pad_nan(x, n_rec + 1) for x in (Q, M, a))
    return {"Q": Q, "M": M, "a": a}

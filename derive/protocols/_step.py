"""One step of a staircase: the subspace before and after, its order, cost and certificates."""

from __future__ import annotations

from dataclasses import dataclass

from ..algebra import Subspace

__all__ = ["REUSE_CLASSES", "Step", "batch_cost", "online_cost", "reuse_class", "reuse_cost"]

REUSE_CLASSES = ("O(d)", "O(d log d)", "hard")


def online_cost(k: int) -> str:
    """Online-SGD samples of a phase of leap k (docs/theory.md §3.2): d^max(k-1, 1), with a
    log factor when k = 2 (Ben Arous, Gheissari, Jagannath 2021; Abbe et al. 2023)."""
    if k <= 1:
        return "d"
    if k == 2:
        return "d log d"
    return f"d^{k - 1}"


def reuse_cost(order: int) -> str:
    """Batch reuse (Dandi et al. 2024; Arnaboldi et al. 2024): first order O(d), second order
    O(d log d), higher orders not in O(d log d) ("hard"; SQ lower bound d^{order/2})."""
    if order <= 1:
        return "d"
    if order == 2:
        return "d log d"
    bound = f"d^{order // 2}" if order % 2 == 0 else f"d^({order}/2)"
    return f"hard (not O(d log d); SQ lower bound {bound})"


def reuse_class(order: int) -> str:
    """The batch-reuse class of a conditional generative order: O(d), O(d log d) or hard."""
    return REUSE_CLASSES[min(max(order, 1), 3) - 1]


def batch_cost(l: int) -> str:
    """Samples in one batch of n = d^l (written "d" for l = 1)."""
    return "d" if l == 1 else f"d^{l}"


@dataclass(frozen=True)
class Step:
    """A staircase step U_t -> U_{t+1}.

    Attributes:
        index: t.
        order: the leap k_t (online), the conditional generative order (reuse) or the batch
            exponent l (giant step).
        mechanism: a short description ("online leap 2", "reuse, second order", ...).
        before: U_t.
        after: U_{t+1}.
        cost: predicted sample complexity of the step, in d.
        certificates: for every lower order, why it vanishes (or "not found up to ...").
        certified: whether every lower-order vanishing is proved (exact zero or symmetry).
        witness: which non-zero moment showed the new directions.
    """

    index: int
    order: int
    mechanism: str
    before: Subspace
    after: Subspace
    cost: str
    certificates: tuple[str, ...]
    certified: bool
    witness: str

    @property
    def new(self) -> Subspace:
        """The new directions: U_{t+1} minus U_t (orthogonal basis)."""
        return self.after.relative_complement(self.before)

    @property
    def exact(self) -> bool:
        return self.after.scalars.is_exact

    def directions(self) -> list[list[float]]:
        """Orthonormal basis of the new directions, floats."""
        return [[float(x) for x in row] for row in self.new.orthonormal_float()]

    def exact_directions(self):
        """Orthonormal basis of the new directions with exact SymPy entries, or None."""
        return self.new.orthonormal() if self.exact else None

    def to_json(self) -> dict:
        exact = self.exact_directions()
        return {
            "leap": self.order,
            "mechanism": self.mechanism,
            "directions": self.directions(),
            "exact_directions": None if exact is None else [[str(x) for x in row] for row in exact],
            "dimension": self.after.dim,
            "cost": self.cost,
            "certified": self.certified,
            "certificates": list(self.certificates),
            "witness": self.witness,
        }

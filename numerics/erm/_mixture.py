"""A mixture of Gaussian clusters with block-diagonal covariances, described by a few numbers.

Data x in R^d comes from cluster c with probability rho_c:

    x = mu_c + Sigma_c^{1/2} z,   z ~ N(0, I_d),   Sigma_c = diag(sigma_{c,j} on block j),

the coordinates being split into J blocks of fractions phi_j. Every vector that matters (the
teacher theta and the means) lives in the span of S "signal" vectors v_1..v_S of norm O(sqrt d);
the means carry a 1/sqrt(d) (mu_c = sum_a M_{ca} v_a / sqrt d, so ||mu_c|| = O(1) while
||x|| = O(sqrt d)) and theta = sum_a T_a v_a. In the limit d -> infinity only the block Gram
matrices G_j = (1/|block j|) sum_{i in j} v_i v_i^T (S x S) enter the asymptotic formulas, so a
`Mixture` is (rho, phi, sigma, M, T, G) and the sampler builds vectors with exactly those Grams.
With this scaling the fields nu = theta.x/sqrt d and lambda = w.x/sqrt d of cluster c have
O(1) means t_c = T^T G M_c-type contractions and O(1) variances (Loureiro et al., arXiv 2106.03791,
section 2; Pesce et al., arXiv 2302.08923, section 2).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

__all__ = ["Mixture", "mixture_from_spec", "MIXTURE_SPEC_HELP"]

MIXTURE_SPEC_HELP = (
    "clusters separated by ';', each a comma list of p=WEIGHT (default equal), "
    "mean=R1/R2/... (components of the mean along orthonormal unit directions u1, u2, ...; "
    "||mu|| = sqrt(R1^2 + ...), default 0), var=S1/S2/... (diagonal covariance: the "
    "coordinates split into equal blocks, variance Sk on block k; default 1), y=+1|-1 (the "
    "cluster's label for --teacher cluster). Example: 'p=0.5,mean=2,var=1;p=0.5,mean=-2,var=1'"
)


@dataclasses.dataclass(frozen=True, eq=False)
class Mixture:
    """K Gaussian clusters with block-diagonal covariances and a teacher, in signal coordinates.

    Attributes:
        weights: (K,) cluster probabilities rho_c (positive, sum 1).
        fractions: (J,) fractions phi_j of the coordinates in each covariance block (sum 1).
        variances: (K, J) variance sigma_{c,j} of cluster c on block j (positive).
        means: (K, S) coefficients M of the rescaled means sqrt(d) mu_c on the signal vectors.
        teacher: (S,) coefficients T of theta on the signal vectors.
        grams: (J, S, S) block Gram matrices G_j of the signal vectors (PSD).
        labels: (K,) cluster labels (+-1) for cluster-label classification, or None.
    """

    weights: np.ndarray
    fractions: np.ndarray
    variances: np.ndarray
    means: np.ndarray
    teacher: np.ndarray
    grams: np.ndarray
    labels: np.ndarray | None = None

    def __post_init__(self):
        w = np.asarray(self.weights, float)
        phi = np.asarray(self.fractions, float)
        var = np.asarray(self.variances, float)
        mu = np.asarray(self.means, float)
        th = np.asarray(self.teacher, float)
        g = np.asarray(self.grams, float)
        K, J, S = w.size, phi.size, th.size
        if w.ndim != 1 or K < 1 or not np.all(np.isfinite(w)) or np.any(w <= 0):
            raise ValueError(f"cluster weights must be positive and finite, got {w}")
        if abs(w.sum() - 1) > 1e-9:
            raise ValueError(f"cluster weights must sum to 1, got sum {w.sum()}")
        if phi.ndim != 1 or np.any(phi <= 0) or abs(phi.sum() - 1) > 1e-9:
            raise ValueError(f"block fractions must be positive and sum to 1, got {phi}")
        if var.shape != (K, J) or not np.all(np.isfinite(var)) or np.any(var <= 0):
            raise ValueError(f"variances must be a positive finite ({K}, {J}) array (a covariance "
                             f"must be positive definite), got {var.tolist()}")
        if mu.shape != (K, S) or not np.all(np.isfinite(mu)):
            raise ValueError(f"means must be a finite ({K}, {S}) array, got shape {mu.shape}")
        if g.shape != (J, S, S) or not np.allclose(g, np.swapaxes(g, 1, 2)):
            raise ValueError(f"grams must be symmetric ({J}, {S}, {S}), got shape {g.shape}")
        if np.min(np.linalg.eigvalsh(g)) < -1e-10:
            raise ValueError("the block Gram matrices of the signal vectors must be PSD")
        labels = None
        if self.labels is not None:
            labels = np.asarray(self.labels, float)
            if labels.shape != (K,) or not np.all(np.isin(labels, (-1.0, 1.0))):
                raise ValueError(f"cluster labels must be +1 or -1, one per cluster, got {labels}")
        for name, value in (("weights", w), ("fractions", phi), ("variances", var),
                            ("means", mu), ("teacher", th), ("grams", g), ("labels", labels)):
            object.__setattr__(self, name, value)

    # --- sizes and teacher moments -------------------------------------------------------
    @property
    def n_clusters(self) -> int:
        return self.weights.size

    @property
    def n_signals(self) -> int:
        return self.teacher.size

    def teacher_means(self) -> np.ndarray:
        """t_c = theta . mu_c / sqrt(d) -> sum_j phi_j T^T G_j M_c, per cluster (K,)."""
        return np.einsum("j,a,jab,kb->k", self.fractions, self.teacher, self.grams, self.means)

    def teacher_variances(self) -> np.ndarray:
        """rho_c = theta^T Sigma_c theta / d -> sum_j phi_j sigma_{c,j} T^T G_j T, per cluster."""
        tgt = np.einsum("a,jab,b->j", self.teacher, self.grams, self.teacher)
        return self.variances @ (self.fractions * tgt)

    # --- the Gaussian with the same first and second moments -----------------------------
    def moments(self):
        """(mean coefficients (S,), block variances (J,), mean-spread covariance C (S, S)).

        The mixture's mean is sum_a mbar_a v_a / sqrt d; its covariance is
        diag(sum_c rho_c sigma_c) + (1/d) sum_{ab} C_ab v_a v_b^T with
        C = sum_c rho_c (M_c - mbar)(M_c - mbar)^T.
        """
        mbar = self.weights @ self.means
        delta = self.means - mbar
        spread = np.einsum("k,ka,kb->ab", self.weights, delta, delta)
        return mbar, self.weights @ self.variances, spread

    def gaussian_equivalent(self, nodes: int = 24) -> Mixture:
        """The single Gaussian N(E x, Cov x), written as a Gauss-Hermite mixture.

        N(mbar, D + U U^T) is the mixture over zeta ~ N(0, I_r) of N(mbar + U zeta, D); the
        low-rank part U U^T (rank <= K - 1, eigenvalues O(1)) comes from the spread of the
        means. Discretising zeta with `nodes` Gauss-Hermite points per direction gives a
        finite mixture the same fixed-point equations solve; the quadrature is spectrally
        accurate because the cluster-wise quantities are smooth in zeta. Cluster labels have no
        meaning for a single Gaussian, so the result has labels None.
        """
        if nodes < 1:
            raise ValueError(f"nodes must be >= 1, got {nodes}")
        mbar, dbar, spread = self.moments()
        evals, evecs = np.linalg.eigh(spread)
        keep = evals > 1e-12 * max(1.0, float(evals.max(initial=0.0)))
        L = evecs[:, keep] * np.sqrt(evals[keep])  # (S, r)
        r = L.shape[1]
        if r == 0:
            zs, ws = np.zeros((1, 0)), np.ones(1)
        else:
            x, w = np.polynomial.hermite_e.hermegauss(nodes)
            w = w / w.sum()
            grids = np.meshgrid(*([x] * r), indexing="ij")
            zs = np.stack([g.ravel() for g in grids], axis=1)
            ws = np.prod(np.meshgrid(*([w] * r), indexing="ij"), axis=0).ravel()
            good = ws > 1e-300
            zs, ws = zs[good], ws[good] / ws[good].sum()
        means = mbar[None, :] + zs @ L.T
        variances = np.broadcast_to(dbar, (ws.size, dbar.size)).copy()
        return Mixture(ws, self.fractions, variances, means, self.teacher, self.grams, None)

    # --- the microscopic twin -------------------------------------------------------------
    def signal_vectors(self, d: int, rng: np.random.Generator) -> np.ndarray:
        """(S, d) signal vectors whose block Grams are exactly G_j (random orientation).

        Block j gets round(phi_j d) coordinates (the last block takes the remainder); inside a
        block the vectors are Z_j R_j with Z_j^T Z_j = |block| I (orthonormalised Gaussian
        columns) and R_j^T R_j = G_j.
        """
        sizes = self.block_sizes(d)
        S = self.n_signals
        out = np.zeros((S, d))
        start = 0
        for j, size in enumerate(sizes):
            if size < S:
                raise ValueError(f"d = {d} leaves block {j} with {size} < {S} coordinates; "
                                 f"use a larger --d")
            q, _ = np.linalg.qr(rng.standard_normal((size, S)))
            evals, evecs = np.linalg.eigh(self.grams[j])
            root = np.sqrt(np.clip(evals, 0, None))[:, None] * evecs.T  # R with R^T R = G
            out[:, start:start + size] = (math.sqrt(size) * q @ root).T
            start += size
        return out

    def block_sizes(self, d: int) -> list[int]:
        sizes = [int(round(f * d)) for f in self.fractions[:-1]]
        sizes.append(d - sum(sizes))
        return sizes

    def sample(self, n: int, vectors: np.ndarray, rng: np.random.Generator):
        """n points: (X (n, d), clusters (n,), teacher field nu = theta.x/sqrt d (n,))."""
        S, d = vectors.shape
        clusters = rng.choice(self.n_clusters, size=n, p=self.weights)
        block_of = np.repeat(np.arange(self.fractions.size), self.block_sizes(d))
        std = np.sqrt(self.variances[:, block_of])  # (K, d)
        mu = self.means @ vectors / math.sqrt(d)  # (K, d)
        X = mu[clusters] + std[clusters] * rng.standard_normal((n, d))
        theta = self.teacher @ vectors
        return X, clusters, X @ theta / math.sqrt(d)


def _floats(text: str, key: str) -> list[float]:
    try:
        values = [float(v) for v in text.split("/")]
    except ValueError:
        raise ValueError(f"{key}={text!r}: expected numbers separated by '/'") from None
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f"{key}={text!r}: values must be finite")
    return values


def mixture_from_spec(spec: str, *, align: float = 0.0, block: int | None = None) -> Mixture:
    """A `Mixture` from the --mixture SPEC syntax and the teacher's alignment.

    SPEC: see MIXTURE_SPEC_HELP. The teacher is theta = sqrt(d) (align u1 + sqrt(1 - align^2)
    u_perp), with u1 the first mean direction and u_perp a unit vector orthogonal to every mean
    direction, spread over all coordinates or (block=k, 1-based) supported on covariance block
    k only, so ||theta||^2 = d and theta.mu_c / sqrt(d) = align R_{c,1}.

    Raises:
        ValueError: on a malformed SPEC, a non-positive variance (not PSD), |align| > 1, ...
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError("the mixture SPEC is empty; " + MIXTURE_SPEC_HELP)
    if not (math.isfinite(align) and -1.0 <= align <= 1.0):
        raise ValueError(f"the teacher alignment must be in [-1, 1], got {align}")
    clusters = []
    for part in spec.split(";"):
        if not part.strip():
            continue
        item = {"p": None, "mean": [0.0], "var": [1.0], "y": None}
        for field in part.split(","):
            if not field.strip():
                continue
            key, sep, value = field.partition("=")
            key = key.strip()
            if not sep or key not in item:
                raise ValueError(f"bad cluster field {field.strip()!r} in {spec!r}; "
                                 + MIXTURE_SPEC_HELP)
            values = _floats(value.strip(), key)
            if key in ("p", "y") and len(values) != 1:
                raise ValueError(f"{key}= takes one number, got {value!r}")
            item[key] = values[0] if key in ("p", "y") else values
        clusters.append(item)
    K = len(clusters)
    if K == 0:
        raise ValueError("the mixture SPEC has no cluster; " + MIXTURE_SPEC_HELP)
    ps = [c["p"] for c in clusters]
    if all(p is None for p in ps):
        weights = np.full(K, 1.0 / K)
    elif any(p is None for p in ps):
        raise ValueError("give p= for every cluster or for none")
    else:
        weights = np.array(ps, float)
        if np.any(weights <= 0) or abs(weights.sum() - 1) > 1e-6:
            raise ValueError(f"cluster weights p= must be positive and sum to 1, got {ps}")
        weights = weights / weights.sum()
    J = max(len(c["var"]) for c in clusters)
    variances = np.empty((K, J))
    for k, c in enumerate(clusters):
        v = c["var"]
        if len(v) not in (1, J):
            raise ValueError(f"cluster {k + 1} has {len(v)} variance blocks, others {J}")
        if any(x <= 0 for x in v):
            raise ValueError(f"cluster {k + 1}: variances must be > 0 (a PSD, full-rank "
                             f"covariance), got var={v}")
        variances[k] = v if len(v) == J else v * J
    M = max(len(c["mean"]) for c in clusters)
    R = np.zeros((K, M))
    for k, c in enumerate(clusters):
        R[k, :len(c["mean"])] = c["mean"]
    labels = [c["y"] for c in clusters]
    if all(y is None for y in labels):
        labels = None
    elif any(y is None for y in labels):
        raise ValueError("give y= for every cluster or for none")
    if block is not None and not 1 <= block <= J:
        raise ValueError(f"the teacher block must be in 1..{J}, got {block}")
    # signal vectors: v_0 = sqrt(d) u_perp, v_1..v_M = sqrt(d) u_m (orthonormal u's)
    S = M + 1
    fractions = np.full(J, 1.0 / J)
    grams = np.zeros((J, S, S))
    for j in range(J):
        grams[j, 1:, 1:] = np.eye(M)
        if block is None:
            grams[j, 0, 0] = 1.0
        elif j == block - 1:
            grams[j, 0, 0] = 1.0 / fractions[j]
    teacher = np.zeros(S)
    teacher[0] = math.sqrt(max(0.0, 1.0 - align**2))
    teacher[1] = align
    means = np.concatenate([np.zeros((K, 1)), R], axis=1)
    return Mixture(weights, fractions, variances, means, teacher, grams, labels)

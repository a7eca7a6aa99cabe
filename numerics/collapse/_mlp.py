"""A small ReLU MLP trained on scikit-learn's digits to the terminal phase, with NC1-NC4 of
every hidden layer recorded along training (Papyan, Han & Donoho, arXiv 2008.08186).

Network: h_0 = x (standardised pixels), h_l = relu(W_l h_{l-1} + b_l) for l = 1..depth,
logits = W h_depth + b. Square loss (1/2) ||logits - onehot||^2 averaged over samples (default;
Han, Papyan & Donoho, arXiv 2106.02073) or cross-entropy; SGD with momentum 0.9 and weight
decay (optax), optionally with the learning rate divided by 10 at 1/3 and 2/3 of the epochs
(Papyan et al.'s schedule). The metrics are
taken on the training set; layer `depth` is the penultimate one (the classifier's input), the
only one with NC2 of the classifier and NC3.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
import optax

from ._metrics import collapse_metrics

__all__ = ["MlpCollapse", "load_dataset", "train_mlp"]

DATASETS = ("digits",)
LOSSES = ("ce", "mse")
METRICS = ("nc1", "nc2_means", "nc2_classifier", "nc3", "nc4")


def load_dataset(name: str, *, test_fraction: float = 0.2, seed: int = 0):
    """(x_train, y_train, x_test, y_test, K) of a dataset shipped with scikit-learn (no
    download), standardised with the training set's mean and deviation, stratified split."""
    if name not in DATASETS:
        raise ValueError(f"dataset {name!r} is not shipped; accepted: {', '.join(DATASETS)}")
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=test_fraction, random_state=seed,
                                              stratify=y)
    mean, std = x_tr.mean(0), x_tr.std(0)
    std = np.where(std > 0, std, 1.0)
    return (x_tr - mean) / std, y_tr, (x_te - mean) / std, y_te, int(y.max()) + 1


@dataclass(frozen=True)
class MlpCollapse:
    """NC1-NC4 per recorded epoch and hidden layer (numerical).

    `metrics[i][l]`: the dict of collapse_metrics at `epochs[i]` for hidden layer l + 1.
    terminal_epoch: first recorded epoch with zero training error (None if never).
    """

    dataset: str
    depth: int
    width: int
    config: dict
    epochs: list[int]
    metrics: list[list[dict]]
    train_error: list[float]
    test_error: list[float]
    train_loss: list[float]

    @property
    def terminal_epoch(self) -> int | None:
        for e, err in zip(self.epochs, self.train_error, strict=True):
            if err == 0:
                return e
        return None

    def metric(self, name: str, layer: int) -> np.ndarray:
        """One metric of hidden layer `layer` (0-based) along the recorded epochs."""
        return np.array([np.nan if m[layer][name] is None else m[layer][name]
                         for m in self.metrics])

    def to_json(self) -> dict:
        layers = [{"layer": l + 1, **{k: self.metric(k, l).tolist() for k in METRICS}}
                  for l in range(self.depth)]
        for entry in layers[:-1]:
            entry["nc2_classifier"] = entry["nc3"] = None
        return {"setting": {"dataset": self.dataset, "depth": self.depth, "width": self.width,
                            **self.config},
                "epochs": self.epochs, "layers": layers, "train_error": self.train_error,
                "test_error": self.test_error, "train_loss": self.train_loss,
                "terminal_epoch": self.terminal_epoch}

    def to_text(self) -> str:
        te = self.terminal_epoch
        phase = ("training error 0 (terminal phase) from epoch " + str(te) if te is not None else
                 f"training error never 0 (last {self.train_error[-1]:.4f})")
        lines = [f"MLP on {self.dataset} ({self.config['loss']}): depth {self.depth}, width "
                 f"{self.width}; {phase}",
                 f"{'epoch':>6} {'layer':>5} {'NC1':>10} {'NC2 (M)':>10} {'NC2 (W)':>10} "
                 f"{'NC3':>10} {'NC4':>8} {'train err':>9} {'test err':>9}"]
        picks = sorted({0, len(self.epochs) // 4, len(self.epochs) // 2, len(self.epochs) - 1})
        fmt = lambda v: "-" if v is None else f"{v:.3e}"
        for i in picks:
            for l in range(self.depth):
                m = self.metrics[i][l]
                lines.append(f"{self.epochs[i]:>6} {l + 1:>5} {fmt(m['nc1']):>10} "
                             f"{fmt(m['nc2_means']):>10} {fmt(m['nc2_classifier']):>10} "
                             f"{fmt(m['nc3']):>10} {m['nc4']:>8.4f} "
                             f"{self.train_error[i]:>9.4f} {self.test_error[i]:>9.4f}")
        return "\n".join(lines)


def initial_params(key, sizes):
    params = []
    for k, (fan_in, fan_out) in zip(jax.random.split(key, len(sizes)), sizes, strict=True):
        params.append((jax.random.normal(k, (fan_out, fan_in)) * np.sqrt(2.0 / fan_in),
                       jnp.zeros(fan_out)))
    return params


def _forward(params, x):
    """(hidden features of every layer, logits)."""
    feats = []
    h = x
    for w, b in params[:-1]:
        h = jax.nn.relu(h @ w.T + b)
        feats.append(h)
    w, b = params[-1]
    return feats, h @ w.T + b


def train_mlp(dataset: str = "digits", *, depth: int = 3, width: int = 64, epochs: int = 800,
              lr: float = 0.05, weight_decay: float = 2e-3, batch: int = 128, every: int = 1,
              seed: int = 0, lr_decay: bool = False, loss: str = "mse",
              progress: bool = False) -> MlpCollapse:
    """Train the MLP and record NC1-NC4 of every hidden layer every `every` epochs.

    Raises:
        ValueError: unknown dataset, or non-positive sizes / rates.
        FloatingPointError: the training loss became non-finite (lower lr).
    """
    for name, value in (("depth", depth), ("width", width), ("epochs", epochs),
                        ("batch", batch), ("every", every)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {', '.join(LOSSES)}, got {loss!r}")
    if not (np.isfinite(lr) and lr > 0) or not (np.isfinite(weight_decay) and weight_decay >= 0):
        raise ValueError(f"lr must be > 0 and weight_decay >= 0, got {lr}, {weight_decay}")
    x_tr, y_tr, x_te, y_te, K = load_dataset(dataset, seed=seed)
    x_tr, x_te = jnp.asarray(x_tr), jnp.asarray(x_te)
    y_tr_j = jnp.asarray(y_tr)
    n_train = x_tr.shape[0]
    batch = min(batch, n_train)
    steps = n_train // batch
    sizes = [(x_tr.shape[1], width)] + [(width, width)] * (depth - 1) + [(width, K)]
    key, init_key = jax.random.split(jax.random.PRNGKey(seed))
    params = initial_params(init_key, sizes)
    boundaries = {max(1, epochs // 3) * steps: 0.1, max(2, 2 * epochs // 3) * steps: 0.1}
    schedule = optax.piecewise_constant_schedule(lr, boundaries if lr_decay else {})
    opt = optax.chain(optax.add_decayed_weights(weight_decay),
                      optax.sgd(schedule, momentum=0.9))
    state = opt.init(params)

    def loss_fn(p, xb, yb):
        _, logits = _forward(p, xb)
        if loss == "mse":
            return 0.5 * jnp.mean(jnp.sum((logits - jax.nn.one_hot(yb, K)) ** 2, axis=1))
        return jnp.mean(optax.softmax_cross_entropy_with_integer_labels(logits, yb))

    @jax.jit
    def epoch(p, s, k):
        perm = jax.random.permutation(k, n_train)[: steps * batch].reshape(steps, batch)

        def step(carry, idx):
            p, s = carry
            g = jax.grad(loss_fn)(p, x_tr[idx], y_tr_j[idx])
            updates, s = opt.update(g, s, p)
            return (optax.apply_updates(p, updates), s), None

        (p, s), _ = jax.lax.scan(step, (p, s), perm)
        return p, s

    @jax.jit
    def evaluate(p):
        feats, logits = _forward(p, x_tr)
        _, logits_te = _forward(p, x_te)
        return feats, jnp.argmax(logits, 1), jnp.argmax(logits_te, 1), loss_fn(p, x_tr, y_tr_j)

    record_epochs, metrics, tr_err, te_err, tr_loss = [], [], [], [], []

    def record(e, p):
        feats, pred, pred_te, value = evaluate(p)
        if not np.isfinite(float(value)):
            raise FloatingPointError(f"training loss is not finite at epoch {e}: lower lr")
        pred = np.asarray(pred)
        w, b = p[-1]
        layer = []
        for l, f in enumerate(feats):
            last = l == depth - 1
            layer.append(collapse_metrics(np.asarray(f), y_tr, K,
                                          classifier=np.asarray(w) if last else None,
                                          bias=np.asarray(b) if last else None,
                                          predictions=pred))
        record_epochs.append(e)
        metrics.append(layer)
        tr_err.append(float(np.mean(pred != y_tr)))
        te_err.append(float(np.mean(np.asarray(pred_te) != y_te)))
        tr_loss.append(float(value))

    iterator = range(1, epochs + 1)
    if progress:
        from tqdm import tqdm

        iterator = tqdm(iterator, desc=f"{dataset} epochs", file=None, leave=False)
    for e in iterator:
        key, k = jax.random.split(key)
        params, state = epoch(params, state, k)
        if e % every == 0 or e == epochs:
            record(e, params)
    config = {"epochs": epochs, "lr": lr, "weight_decay": weight_decay, "batch": batch,
              "every": every, "seed": seed, "n_train": int(n_train), "n_test": int(x_te.shape[0]),
              "classes": K, "lr_decay": lr_decay,
              "optimizer": "SGD momentum 0.9" + (", lr / 10 at 1/3 and 2/3 of the epochs"
                                                  if lr_decay else ", constant lr"),
              "loss": loss}
    return MlpCollapse(dataset=dataset, depth=depth, width=width, config=config,
                       epochs=record_epochs, metrics=metrics, train_error=tr_err,
                       test_error=te_err, train_loss=tr_loss)

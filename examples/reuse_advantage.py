"""The reuse advantage on He3(z1): online SGD against two steps per batch, at several d.

One spherical ReLU neuron (the student of Arnaboldi et al., arXiv 2405.15459, Fig. 1)
learns the single-index target He3(z1) with the correlation loss, at the reuse rate of
escalier.numerics.verify.reuse_rate (half the rate minimising the escape time of the
d -> infinity reuse ODE to |m| = 0.2). Online SGD cannot learn He3 with a ReLU neuron at
all (ReLU has no third Hermite coefficient); with two steps on each sample, the second step
sees the label through the first (a label transform whose first Hermite coefficient is not
zero: generative exponent 1, Dandi et al., arXiv 2402.03220), and the overlap rises after
O(d) samples, on the same curve of samples / d at every d. The figure shows the mean |m|
against samples / d, for both protocols and each d, on the exact gram engine.

    python examples/reuse_advantage.py --d 1024 4096 16384 --samples 20 --out reuse.png
"""

from __future__ import annotations

import argparse
import os


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--d", type=int, nargs="+", default=[1024, 4096, 16384])
    parser.add_argument("--samples", type=float, default=20.0, help="samples / d simulated")
    parser.add_argument("--seeds", type=int, default=16)
    parser.add_argument("--records", type=int, default=60)
    parser.add_argument("--out", default="reuse_advantage.png", help="figure file")
    args = parser.parse_args(argv)

    os.environ.setdefault("JAX_ENABLE_X64", "1")
    import jax

    jax.config.update("jax_enable_x64", True)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from escalier.derive import Scenario
    from escalier.numerics.simulation import OnlineSGD, StepsPerBatch, simulate
    from escalier.numerics.verify import reuse_rate

    base = Scenario("He3(z1)", student="relu", p=1, spherical=True, loss="correlation")
    lr = reuse_rate(base, 0.2, min(args.d)).lr
    sc = Scenario("He3(z1)", student="relu", p=1, spherical=True, loss="correlation", lr=lr)
    print(f"He3(z1), spherical ReLU neuron, correlation loss, lr = {lr:.4g} (reuse rate rule)")
    fig, ax = plt.subplots(figsize=(6, 4.2))
    for i, d in enumerate(args.d):
        for proto, style in ((OnlineSGD(), "--"), (StepsPerBatch(2), "-")):
            k = proto.steps_per_batch
            r = simulate(sc, d, args.samples * k, seeds=args.seeds, n_records=args.records,
                         engine="gram", protocol=proto, progress=False)
            m = np.abs(r.M[:, :, 0, 0]).mean(0)
            x = r.times / k  # samples / d
            ax.plot(x, m, f"C{i}{style}", label=f"d = {d}, {proto.describe()}")
            print(f"d = {d:>6} {proto.describe():>18}: mean |m| after {args.samples:g} d "
                  f"samples = {m[-1]:.3f}")
    ax.set(xlabel="samples / d", ylabel="mean |m|", title="He3(z1): online vs two steps per batch")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(args.out, dpi=120)
    plt.close(fig)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

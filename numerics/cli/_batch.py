"""`escalier batch TARGET`: iterations to a target overlap against batch size, the knee near
d^(l/2) under the square loss and none under the correlation loss (Arnaboldi et al.,
arXiv 2406.02157; docs/batch.md).

Example: escalier batch "He3(z1)" --d 128 256 512 --plot knee.png --json knee.json
"""

from __future__ import annotations

import sys

from ._common import (
    bounded,
    enable_float64,
    nonnegative_int,
    positive_int,
    write_json,
)

DEFAULT_D = (128, 256, 512)
_UNIT = bounded(float, 0, 1, low_open=True, high_open=True)


def add_arguments(parser) -> None:
    parser.add_argument("target", help="single-index target f(z1), e.g. 'He3(z1)'")
    parser.add_argument("--student", default="He3", help="student activation (default: He3)")
    parser.add_argument("--d", type=bounded(int, 8), nargs="+", default=list(DEFAULT_D),
                        help=f"input dimensions (default: {' '.join(map(str, DEFAULT_D))})")
    parser.add_argument("--nb", type=positive_int, nargs="+", default=None,
                        help="batch sizes, the same at every d (default: r d^(l/2) for r in "
                             "--ratios)")
    parser.add_argument("--ratios", type=bounded(float, 0, low_open=True), nargs="+",
                        default=[1 / 4, 1 / 2, 1, 2, 4, 8, 16, 32],
                        help="batch sizes as multiples of d^(l/2) (default: 1/4 ... 32)")
    parser.add_argument("--loss", choices=["square", "correlation", "both"], default="both",
                        help="loss (default: both, for the contrast)")
    parser.add_argument("--overlap", type=_UNIT, default=0.5,
                        help="target overlap |m| (default: 0.5)")
    parser.add_argument("--eps", type=_UNIT, default=0.5,
                        help="noise-to-drift ratio at m = d^(-1/2) fixing the learning-rate "
                             "prefactor (default: 0.5)")
    parser.add_argument("--kappa", type=_UNIT, default=0.5,
                        help="square loss: gamma <= kappa / |E[dg/dlambda]| (default: 0.5)")
    parser.add_argument("--seeds", type=positive_int, default=12,
                        help="gram runs per point; T is the median over those starting with "
                             "m0 > 0 (default: 12)")
    parser.add_argument("--seed", type=nonnegative_int, default=0, help="PRNG seed")
    parser.add_argument("--max-steps", type=positive_int, default=10**6,
                        help="most SGD steps per run (default: 10^6)")
    parser.add_argument("--no-map", action="store_true", help="skip the finite-step map")
    parser.add_argument("--map-only", action="store_true",
                        help="the finite-step map alone (seconds; fits the map's T)")
    parser.add_argument("--plot", metavar="FILE", help="write a figure")
    parser.add_argument("--json", metavar="FILE", help="write the results and configuration")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args) -> int:
    enable_float64()
    from tqdm import tqdm

    from escalier.numerics.batch import batch_study, plot_study, report

    losses = ("square", "correlation") if args.loss == "both" else (args.loss,)
    n_points = len(losses) * len(args.d) * len(args.nb or args.ratios)
    bar = tqdm(total=n_points, desc="escalier batch", file=sys.stderr,
               disable=args.no_progress)

    def tick(message):
        bar.set_postfix_str(message, refresh=False)
        bar.update(1)

    try:
        study = batch_study(args.target, sorted(set(args.d)), student=args.student,
                            losses=losses, n_b=args.nb, ratios=tuple(args.ratios),
                            m_target=args.overlap, eps=args.eps, kappa=args.kappa,
                            seeds=args.seeds, seed=args.seed, max_steps=args.max_steps,
                            use_map=not args.no_map, use_gram=not args.map_only,
                            progress=tick)
    finally:
        bar.close()
    print(report(study))
    if args.json:
        payload = study.to_json()
        payload["command"] = {"name": "batch", **{k: v for k, v in vars(args).items()
                                                  if k not in ("debug", "command")}}
        write_json(args.json, payload)
        print(f"wrote {args.json}")
    if args.plot:
        plot_study(study, args.plot)
        print(f"wrote {args.plot}")
    return 0

"""``workbench curves``: several runs' learning curves side by side, averaged over windows."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "curves",
        help="compare runs' learning curves (metrics.csv) in windows of wall time, steps or epochs",
        description=(
            "Average one column of each run's metrics.csv over consecutive windows of another column "
            "(by default the iteration's mean episode return over 300-second windows of wall time) and "
            "print one row per window, one column per run; optionally write the table as CSV and a plot."
        ),
    )
    parser.add_argument("runs", nargs="+", help="run folders (or their metrics.csv files)")
    parser.add_argument("--x", default="wall_time_s", help="column that defines the windows (default wall_time_s)")
    parser.add_argument("--y", default="episode_return", help="column averaged in each window (default episode_return)")
    parser.add_argument("--window", type=float, default=300.0, help="window width in units of --x (default 300)")
    parser.add_argument("--out", type=Path, default=None, metavar="FILE.csv", help="write the table as CSV")
    parser.add_argument("--plot", type=Path, default=None, metavar="FILE.html",
                        help="write every run's curve and its window means as an interactive plot")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from workbench.analysis.curves import compare_curves, load_run_curve
    from workbench.files import atomic_write_text

    curves = [load_run_curve(run) for run in args.runs]
    table = compare_curves(curves, args.x, args.y, args.window)
    table.index.name = f"{args.x}_window_end"
    print(f"mean {args.y} per window of {args.window:g} {args.x}")
    print(table.to_string(float_format=lambda v: f"{v:,.1f}", na_rep="-"))
    if args.out is not None:
        atomic_write_text(args.out, table.to_csv(float_format="%.6g"))
        print(f"wrote {args.out}")
    if args.plot is not None:
        from workbench.analysis.curves import curves_figure

        figure = curves_figure(curves, table, args.x, args.y, args.window)
        atomic_write_text(args.plot, figure.to_html(include_plotlyjs=True, full_html=True))
        print(f"wrote {args.plot}")
    return 0

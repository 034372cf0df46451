"""``workbench flops``: the paper's Table 1 (inference-time parameters and FLOPs) from the configs."""

from __future__ import annotations

import argparse
import csv
import io


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "flops",
        help="print Table 1: parameters and FLOPs per step of every method (paper configurations)",
        description=(
            "Count inference-time parameters and FLOPs per step of every method from the paper-<task> "
            "configurations (the paper's Appendix B.2 conventions), absolute and relative to HyperDistill, "
            "beside the paper's published Table 1 figures; plus the one-off FLOPs of generating the base MLP."
        ),
    )
    parser.add_argument("--task", default="ft", choices=("ft", "vt", "obstacle"))
    parser.add_argument("--format", default="table", choices=("table", "csv"))
    parser.set_defaults(func=run)


def format_table(task: str) -> str:
    from workbench.analysis.flops import PAPER_GENERATION_FLOPS, generation_flops, table1
    from workbench.models import get_model_config

    rows = table1(task)
    header = ("Task", "Method", "Params", "Rel.", "FLOPs", "Rel.", "Paper params", "Rel.", "Paper FLOPs", "Rel.")
    lines = [header]
    for r in rows:
        p = r.paper
        lines.append((task.upper() if task != "obstacle" else "Obstacle", r.label,
                      f"{r.params / 1e6:.2f} M", f"{r.params_rel:.1f}", f"{r.flops / 1e6:.2f} M", f"{r.flops_rel:.1f}",
                      f"{p[0]:.2f} M", f"{p[1]:.1f}", f"{p[2]:.2f} M", f"{p[3]:.1f}"))
    widths = [max(len(str(line[i])) for line in lines) for i in range(len(header))]
    out = []
    for k, line in enumerate(lines):
        cells = [str(c).ljust(w) if i < 2 else str(c).rjust(w) for i, (c, w) in enumerate(zip(line, widths))]
        out.append("  ".join(cells).rstrip())
        if k == 0:
            out.append("  ".join("-" * w for w in widths))
    gen = generation_flops(get_model_config(f"paper-{task}", "hyperdistill")).flops
    paper = PAPER_GENERATION_FLOPS[task]
    out.append("")
    out.append(f"Generating the HyperDistill base MLP (once per robot): {gen / 1e6:.2f} M FLOPs "
               f"(paper: {paper / 1e6:.0f} M, {100 * (gen / paper - 1):+.1f}%)")
    return "\n".join(out)


def format_csv(task: str) -> str:
    from workbench.analysis.flops import generation_flops, table1
    from workbench.models import get_model_config

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["task", "method", "params", "params_rel", "flops", "flops_rel", "paper_params_m",
                     "paper_params_rel", "paper_flops_m", "paper_flops_rel"])
    for r in table1(task):
        writer.writerow([task, r.method, r.params, f"{r.params_rel:.4f}", r.flops, f"{r.flops_rel:.4f}", *r.paper])
    gen = generation_flops(get_model_config(f"paper-{task}", "hyperdistill")).flops
    writer.writerow([task, "hyperdistill-generation", "", "", gen, "", "", "", 43.0 if task == "ft" else 65.0, ""])
    return buf.getvalue().rstrip("\n")


def run(args: argparse.Namespace) -> int:
    print(format_table(args.task) if args.format == "table" else format_csv(args.task))
    return 0

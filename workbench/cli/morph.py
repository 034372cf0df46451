"""``workbench morph``: validate, generate and mutate UNIMAL robots.

- ``validate PATH...``: files, directories (``DIR/*.xml`` or ``DIR/xml/*.xml``),
  built-in suites (``generated-train``) or robot names. One row per robot, then the
  duplicates within each set and the overlaps between sets (structural
  fingerprints). A bad file gets one line on stderr; the others are still
  reported; the exit status is 1 when any file was invalid, 2 when a path or name
  does not exist, 0 otherwise.
- ``show ROBOT``: one robot's limb table.
- ``stats PATH...``: the distribution of one or more robot sets side by side (limbs, DoF,
  limb-count histogram, joint-type mix, height), with the published training set's figures.
- ``generate --n N --seed S --out DIR``: N new robots (``DIR/xml``, ``DIR/metadata``).
- ``mutate SRC... --per-robot K --seed S --out DIR``: K mutants of each source robot.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from workbench.errors import WorkbenchError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "morph",
        help="validate, generate and mutate UNIMAL robots",
        description="Validate, generate and mutate UNIMAL robots (MJCF XML plus metadata JSON).",
    )
    sub = parser.add_subparsers(dest="morph_command", metavar="SUBCOMMAND")
    sub.required = True

    p = sub.add_parser(
        "validate",
        help="check robots and report duplicates and overlaps between sets",
        description=(
            "Load each robot (files, directories of XMLs, built-in suites such as generated-train, or "
            "built-in robot names), print one row per robot (name, limbs, DoF, motors, mass, height, "
            "self-contacts at rest), then the duplicates within each set and the overlaps between sets "
            "found by structural fingerprint. Bad files are reported one line each on stderr; exit status "
            "1 if any file is invalid, 2 if a path or name does not exist."
        ),
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="XML file, directory, suite or robot name")
    p.add_argument("--quiet", action="store_true", help="print only the summary, duplicates and errors")
    p.set_defaults(func=run_validate)

    p = sub.add_parser(
        "show",
        help="print one robot's limb table",
        description="Print a robot's summary and limb table (limb, parent, length, joints, ranges, gears, mass).",
    )
    p.add_argument("robot", metavar="ROBOT", help="XML file or built-in robot name (e.g. gen-train-003)")
    p.set_defaults(func=run_show)

    p = sub.add_parser(
        "stats",
        help="print the distribution of robot sets side by side",
        description=(
            "For each robot set (directory, suite or file), print the number of robots, mean limbs and DoF, "
            "the limb-count histogram, the joint-type mix (x, y, both) and the mean torso height, one column "
            "per set, beside the committed figures of the published UNIMAL training set."
        ),
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="directory, suite (e.g. generated-train-v2) or file")
    p.add_argument("--json", action="store_true", help="print the statistics as JSON instead of a table")
    p.set_defaults(func=run_stats)

    p = sub.add_parser(
        "generate",
        help="generate new robots in the UNIMAL design space",
        description=(
            "Generate N distinct robots (reproducible from the seed) and write them in the UNIMAL layout: "
            "OUT/xml/NAME.xml and OUT/metadata/NAME.json (num_limbs, dof, symmetric_limbs, seed)."
        ),
    )
    p.add_argument("--n", type=int, required=True, help="number of robots")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--out", type=Path, required=True, help="output directory")
    p.add_argument("--prefix", default=None, help="name prefix (default gen-<seed>); robots are PREFIX-000, ...")
    p.add_argument("--generator", choices=("v1", "v2"), default="v2",
                   help="generator version: v2 (default) matches the published limb-count histogram; "
                        "v1 made the robots of generated-train")
    p.set_defaults(func=run_generate)

    p = sub.add_parser(
        "mutate",
        help="write mutants of robots (the seven UNIMAL mutation operators)",
        description=(
            "Write K mutants of each source robot, each after 1-3 random mutation steps (or --steps), to "
            "OUT/xml/NAME.xml and OUT/metadata/NAME.json; the metadata records the operators applied, the "
            "parent robot and the seed. Names follow the published pattern SRC-mutate-K-OP-OP."
        ),
    )
    p.add_argument("sources", nargs="+", metavar="SRC", help="XML file, directory, suite or robot name")
    p.add_argument("--per-robot", type=int, required=True, help="mutants per source robot")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--out", type=Path, required=True, help="output directory")
    p.add_argument("--steps", type=int, default=None, choices=(1, 2, 3), help="mutation steps (default: random 1-3)")
    p.add_argument("--with-sources", action="store_true", help="also write the source robots (like train_mutate_1000)")
    p.set_defaults(func=run_mutate)


def _progress(iterable, total: int | None, desc: str):
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover
        return iterable
    return tqdm(iterable, total=total, desc=desc, file=sys.stderr, disable=None, leave=False)


def _error(error: WorkbenchError) -> None:
    print(f"error: {error}", file=sys.stderr)


def _is_missing(error: WorkbenchError) -> bool:
    return error.problem.startswith("no such file")


def _table(rows: list[tuple], header: tuple[str, ...]) -> str:
    cells = [header] + [tuple(str(c) for c in row) for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = []
    for k, row in enumerate(cells):
        lines.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))))
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def run_validate(args: argparse.Namespace) -> int:
    from workbench.morphology import fingerprint, iter_robot_entries
    from workbench.morphology.validation import contacts_at_rest

    status = 0
    sets: dict[str, list[tuple[str, str]]] = {}  # set label -> [(robot name, fingerprint)]
    rows = []
    for path in args.paths:
        entries = iter_robot_entries([path])
        for set_label, item, entry in _progress(entries, None, f"validating {path}"):
            if isinstance(entry, WorkbenchError):
                _error(entry)
                status = max(status, 2 if _is_missing(entry) else 1)
                continue
            morph = entry
            try:
                contacts = len(contacts_at_rest(morph))
            except Exception as error:  # noqa: BLE001 - a MuJoCo compile error is a property of the input
                _error(WorkbenchError(f"does not compile in MuJoCo ({str(error).splitlines()[0]})", item))
                status = max(status, 1)
                continue
            rows.append(
                (
                    morph.name,
                    morph.num_limbs,
                    morph.num_joints,
                    morph.num_motors,
                    f"{morph.mass:.2f}",
                    f"{morph.height:.2f}",
                    contacts,
                    set_label,
                )
            )
            sets.setdefault(set_label, []).append((morph.name, fingerprint(morph)))
    out = sys.stdout
    if rows and not args.quiet:
        header = ("name", "limbs", "dof", "motors", "mass_kg", "height_m", "self_contacts", "set")
        print(_table(rows, header), file=out)
        print(file=out)
    total_bad = 0
    for label, robots in sets.items():
        limbs = [r[1] for r in rows if r[7] == label]
        dofs = [r[2] for r in rows if r[7] == label]
        print(
            f"{label}: {len(robots)} robots, limbs {min(limbs)}-{max(limbs)}, DoF {min(dofs)}-{max(dofs)}",
            file=out,
        )
    for label, robots in sets.items():
        groups: dict[str, list[str]] = {}
        for name, fp in robots:
            groups.setdefault(fp, []).append(name)
        dups = [names for names in groups.values() if len(names) > 1]
        if dups:
            extra = sum(len(g) - 1 for g in dups)
            total_bad += extra
            print(f"duplicates within {label}: {len(dups)} group(s), {extra} redundant robot(s)", file=out)
            for names in dups:
                print("  " + " = ".join(names), file=out)
        else:
            print(f"duplicates within {label}: none", file=out)
    labels = list(sets)
    for i, a in enumerate(labels):
        for b in labels[i + 1 :]:
            fa: dict[str, list[str]] = {}
            for name, fp in sets[a]:
                fa.setdefault(fp, []).append(name)
            pairs = [(fa[fp], name) for name, fp in sets[b] if fp in fa]
            if pairs:
                print(f"overlaps between {a} and {b}: {len(pairs)} robot(s) of {b} also in {a}", file=out)
                for names_a, name_b in pairs:
                    print(f"  {' = '.join(names_a)} ({a}) = {name_b} ({b})", file=out)
            else:
                print(f"overlaps between {a} and {b}: none", file=out)
    return status


def run_show(args: argparse.Namespace) -> int:
    from workbench.morphology import fingerprint, limb_table, load_robot

    morph = load_robot(args.robot)
    print(
        f"{morph.name}: {morph.num_limbs} limbs, {morph.num_joints} DoF, mass {morph.mass:.2f} kg, "
        f"height {morph.height:.2f} m, fingerprint {fingerprint(morph)}"
    )
    if morph.symmetric_pairs:
        print("symmetric pairs: " + ", ".join(f"limb/{a}~limb/{b}" for a, b in morph.symmetric_pairs))
    if morph.mutations:
        print("mutations: " + ", ".join(morph.mutations))
    rows = limb_table(morph)
    keys = ("limb", "parent", "length", "joints", "ranges", "gears", "density", "mass")
    print(_table([tuple(r[k] for k in keys) for r in rows], keys))
    return 0


def run_stats(args: argparse.Namespace) -> int:
    from workbench.morphology import load_robots
    from workbench.morphology.statistics import JOINT_TYPES, robot_set_stats, unimal_train_stats

    columns = {path: robot_set_stats(load_robots(path)) for path in args.paths}
    if args.json:
        print(json.dumps({path: stats.to_dict() for path, stats in columns.items()}, indent=2))
        return 0
    columns["published train (committed)"] = unimal_train_stats()
    counts = sorted({k for stats in columns.values() for k in stats.limb_histogram})
    rows: list[tuple] = [
        ("robots", *(f"{s.robots:,}" for s in columns.values())),
        ("mean limbs", *(f"{s.mean_limbs:.2f}" for s in columns.values())),
        ("mean DoF", *(f"{s.mean_dof:.2f}" for s in columns.values())),
        ("mean height (m)", *(f"{s.mean_height:.2f}" for s in columns.values())),
    ]
    rows += [(f"{k} limbs", *(f"{s.limb_histogram.get(k, 0.0):.0%}" for s in columns.values())) for k in counts]
    rows += [(f"joints {kind}", *(f"{s.joint_type_mix[kind]:.0%}" for s in columns.values())) for kind in JOINT_TYPES]
    print(_table(rows, ("", *columns)))
    return 0


def run_generate(args: argparse.Namespace) -> int:
    from workbench.morphology.generator import GENERATOR_V1, GENERATOR_V2, generate_robots

    if args.n < 1:
        raise WorkbenchError(f"--n must be at least 1, got {args.n}")
    spec = GENERATOR_V2 if args.generator == "v2" else GENERATOR_V1
    robots = generate_robots(args.n, args.seed, prefix=args.prefix or f"gen-{args.seed}", spec=spec)
    for morph in _progress(robots, len(robots), "writing"):
        morph.save(args.out / "xml" / f"{morph.name}.xml", extra_metadata=morph.metadata)
    print(f"wrote {len(robots)} robots to {args.out}/xml (metadata in {args.out}/metadata)")
    return 0


def run_mutate(args: argparse.Namespace) -> int:
    from workbench.morphology import iter_robot_entries, mutate

    import numpy as np

    if args.per_robot < 1:
        raise WorkbenchError(f"--per-robot must be at least 1, got {args.per_robot}")
    status = 0
    sources = []
    for spec in args.sources:
        for _, item, entry in iter_robot_entries([spec]):
            if isinstance(entry, WorkbenchError):
                _error(entry)
                status = max(status, 2 if _is_missing(entry) else 1)
            else:
                sources.append(entry)
    written = 0
    total = len(sources) * args.per_robot
    jobs = ((i, src, k) for i, src in enumerate(sources) for k in range(args.per_robot))
    for i, src, k in _progress(jobs, total, "mutating"):
        if k == 0 and args.with_sources:
            src.save(args.out / "xml" / f"{src.name}.xml")
        rng = np.random.default_rng([args.seed, i, k])
        mutant = mutate(src, rng, steps=args.steps)
        new_ops = mutant.mutations[len(src.mutations) :]
        mutant = mutant.with_name(f"{src.name}-mutate-{k}-{'-'.join(new_ops)}")
        mutant.save(
            args.out / "xml" / f"{mutant.name}.xml",
            extra_metadata={"parent": src.name, "seed": [args.seed, i, k]},
        )
        written += 1
    print(f"wrote {written} mutants of {len(sources)} robots to {args.out}/xml (metadata in {args.out}/metadata)")
    return status

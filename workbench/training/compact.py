"""The compact form of a finished specialist, the form that is committed and carried between sessions.

A finished specialist run holds ``checkpoint.pt`` (optimiser state, the pending rollout: what
training on needs, too large to commit) and ``policy.pt`` (actor and critic). What later steps
need is the actor alone: warm start and DAgger act with it and label with it. :func:`compact_run`
rewrites ``policy.pt`` as the actor only (same weights, so the same actions) and writes
``SHA256SUMS`` over the files that define the finished run, so a rerun of ``train-specialists``
can skip a committed specialist only after :func:`verify_compact_run` has checked it.
"""

from __future__ import annotations

from pathlib import Path

from workbench.errors import WorkbenchError
from workbench.files import atomic_write_text, sha256_file
from workbench.models.checkpoint import load_checkpoint, read_checkpoint_extra, save_checkpoint

CHECKSUM_FILE = "SHA256SUMS"
CHECKSUMMED_FILES = ("config.json", "metrics.csv", "policy.pt")  # what a finished run is


def compact_run(run_dir: str | Path) -> Path:
    """Make ``run_dir``'s policy.pt the actor alone and write its checksums; returns the checksum file."""
    run_dir = Path(run_dir)
    policy = run_dir / "policy.pt"
    checkpoint = load_checkpoint(policy)
    if checkpoint.kind == "actor_critic":
        save_checkpoint(policy, checkpoint.policy, extra=read_checkpoint_extra(policy))
    lines = [f"{sha256_file(run_dir / name)}  {name}" for name in CHECKSUMMED_FILES]
    return atomic_write_text(run_dir / CHECKSUM_FILE, "\n".join(lines) + "\n")


def is_compact(run_dir: str | Path) -> bool:
    return (Path(run_dir) / CHECKSUM_FILE).is_file()


def verify_compact_run(run_dir: str | Path) -> None:
    """WorkbenchError naming the first file that is missing or differs from its checksum."""
    run_dir = Path(run_dir)
    for line in (run_dir / CHECKSUM_FILE).read_text().splitlines():
        digest, _, name = line.partition("  ")
        path = run_dir / name
        if not path.is_file():
            raise WorkbenchError(f"committed specialist lacks {name}", run_dir)
        if sha256_file(path) != digest:
            raise WorkbenchError(f"{name} differs from its checksum in {CHECKSUM_FILE}; "
                                 "delete the folder to train this specialist again", run_dir)

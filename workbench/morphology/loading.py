"""Resolve what a user names as robots: suite names, built-in robot names, files, directories."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from workbench.errors import WorkbenchError
from workbench.morphology.model import Morphology
from workbench.morphology.xml_reader import read_xml_file


def xml_files_in(directory: Path) -> list[Path]:
    """The robot XMLs of a directory: ``DIR/*.xml``, or ``DIR/xml/*.xml`` (UNIMAL layout)."""
    files = sorted(p for p in directory.glob("*.xml") if p.is_file())
    if not files and (directory / "xml").is_dir():
        files = sorted(p for p in (directory / "xml").glob("*.xml") if p.is_file())
    return files


def _as_list(spec) -> list:
    if isinstance(spec, (str, Path, Morphology)):
        return [spec]
    if isinstance(spec, Iterable):
        return list(spec)
    raise WorkbenchError(f"cannot read robots from {spec!r}")


def iter_robot_entries(spec) -> Iterator[tuple[str, str, "Morphology | WorkbenchError"]]:
    """Yield ``(set_label, item_label, morphology_or_error)`` for everything ``spec`` names.

    ``set_label`` groups robots of one argument (a suite, a directory, a file) so
    that the CLI can report duplicates within a set and overlaps between sets.
    Errors are yielded, not raised, so a caller can report them and continue.
    """
    from workbench.morphology.suites import SUITES, builtin_robot, is_builtin_robot_name, suite

    for item in _as_list(spec):
        if isinstance(item, Morphology):
            yield ("(given)", item.name, item)
            continue
        text = str(item)
        if isinstance(item, str) and text in SUITES:
            for morph in suite(text):
                yield (text, morph.name, morph)
            continue
        if isinstance(item, str) and is_builtin_robot_name(text):
            yield (text, text, builtin_robot(text))
            continue
        path = Path(text).expanduser()
        if path.is_dir():
            files = xml_files_in(path)
            if not files:
                yield (text, text, WorkbenchError("directory holds no .xml robot files", path))
                continue
            for file in files:
                try:
                    yield (text, str(file), read_xml_file(file))
                except WorkbenchError as error:
                    yield (text, str(file), error)
        elif path.exists():
            try:
                yield (text, text, read_xml_file(path))
            except WorkbenchError as error:
                yield (text, text, error)
        else:
            if "/" not in text and not text.endswith(".xml"):
                problem = (
                    "no such file, directory or built-in robot/suite "
                    f"(suites: {', '.join(SUITES)}; robots like gen-train-000)"
                )
            else:
                problem = "no such file or directory"
            yield (text, text, WorkbenchError(problem, text))


def load_robots(spec) -> list[Morphology]:
    """Morphologies named by ``spec``: a suite name, a built-in robot name, a directory
    of XMLs, an XML file, a Morphology, or a list of those. Raises WorkbenchError at
    the first unknown name, missing path or invalid file.
    """
    robots = []
    for _, _, entry in iter_robot_entries(spec):
        if isinstance(entry, WorkbenchError):
            raise entry
        robots.append(entry)
    if not robots:
        raise WorkbenchError(f"no robots in {spec!r}")
    return robots


def load_robot(spec) -> Morphology:
    """One robot: a Morphology, an XML path, or a built-in robot name (e.g. ``gen-train-003``)."""
    if isinstance(spec, Morphology):
        return spec
    robots = load_robots(spec)
    if len(robots) != 1:
        raise WorkbenchError(f"names {len(robots)} robots, expected one", str(spec))
    return robots[0]

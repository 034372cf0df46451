"""The guided notebooks: stored without outputs, structured as lessons, and each runs end to end in quick
mode (WORKBENCH_QUICK=1) under nbclient, in a temporary working folder, with this interpreter's kernel."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import nbformat
import pytest

from conftest import REPO_ROOT

NOTEBOOKS = sorted((REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
CELL_TIMEOUT_S = 300


def test_there_are_seven_numbered_notebooks() -> None:
    assert [p.name[:2] for p in NOTEBOOKS] == ["01", "02", "03", "04", "05", "06", "07"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stored_without_outputs(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{path.name}: a cell has outputs"
    assert notebook.metadata["kernelspec"]["name"] == "python3"
    # nbformat 4.5 cells carry ids; a cell added by hand without one only warns when read (and the
    # reader invents one), so check the stored file itself.
    import json

    ids = [cell.get("id") for cell in json.loads(path.read_text())["cells"]]
    assert None not in ids and len(set(ids)) == len(ids), f"{path.name}: cells without a unique id"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_a_lesson_with_a_quick_mode(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    markdown = "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")
    for heading in ("**Question:**", "**Learning objectives.**", "## Summary", "**Try it.**", "## 1."):
        assert heading in markdown, f"{path.name} lacks {heading!r}"
    first_code = next(c.source for c in notebook.cells if c.cell_type == "code")
    assert 'QUICK = os.environ.get("WORKBENCH_QUICK", "0") == "1"' in first_code
    code = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
    assert "from workbench" in code  # thin over the library


@pytest.fixture()
def this_interpreters_kernel(tmp_path_factory, monkeypatch) -> str:
    """A "python3" kernel spec that runs this interpreter (the .venv's), found first on JUPYTER_PATH."""
    root = tmp_path_factory.mktemp("jupyter")
    spec = root / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (ipykernel)", "language": "python",
    }))
    monkeypatch.setenv("JUPYTER_PATH", str(root))
    return "python3"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_in_quick_mode(path: Path, tmp_path: Path, monkeypatch, capsys, this_interpreters_kernel) -> None:
    from nbclient import NotebookClient

    monkeypatch.setenv("WORKBENCH_QUICK", "1")
    monkeypatch.setenv("MUJOCO_GL", "egl")
    notebook = nbformat.read(path, as_version=4)
    # One more cell, to check which interpreter ran the notebook.
    notebook.cells.append(nbformat.v4.new_code_cell("import sys; print(sys.executable)"))
    client = NotebookClient(notebook, timeout=CELL_TIMEOUT_S, kernel_name=this_interpreters_kernel,
                            resources={"metadata": {"path": str(tmp_path)}})
    start = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - start
    with capsys.disabled():
        print(f"\n{path.name}: {elapsed:.1f} s in quick mode")

    printed = "".join(o.get("text", "") for o in notebook.cells[-1].outputs)
    assert Path(printed.strip()).resolve() == Path(sys.executable).resolve()
    first = "".join(o.get("text", "") for o in notebook.cells[1].outputs if o.output_type == "stream")
    assert "quick mode" in first
    errors = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    # Everything it wrote is under the temporary working folder.
    assert (tmp_path / "runs" / path.name[:2]).is_dir()

"""``workbench morph``: validate / generate / mutate, and every bad-input case."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from workbench.cli import main
from workbench.morphology import Morphology, load_robots, suite
from workbench.morphology.geometry import direction, make_limb

REPO = Path(__file__).resolve().parents[1]
PUBLISHED = "floor-1409-0-12-01-12-30-07"


@pytest.fixture
def good_xml(unimal_dir) -> Path:
    return unimal_dir / "train" / "xml" / f"{PUBLISHED}.xml"


def _big_robot() -> Morphology:
    return max(suite("generated-train"), key=lambda m: m.num_limbs)


def _too_many_limbs() -> str:
    big = _big_robot()
    assert big.num_bodies == 12
    extra = make_limb(99, big.limbs[-1].id, np.zeros(3), direction(0, 180), 0.2, 700, ((-30.0, 30.0), 150.0), None)
    return replace(big, limbs=big.limbs + (extra,)).to_xml()


def _too_many_motors() -> str:
    big = _big_robot()
    both = []
    for limb in big.limbs:
        j = limb.joint_x or limb.joint_y
        both.append(replace(limb, joint_x=limb.joint_x or j, joint_y=limb.joint_y or j))
    morph = replace(big, limbs=tuple(both))
    assert morph.num_joints > 16 and morph.num_bodies <= 12
    return morph.to_xml()


def _bad_files(good: Path) -> dict[str, tuple[str, str]]:
    """file name -> (content, expected fragment of the one-line problem)."""
    text = good.read_text()
    return {
        "malformed.xml": ("<mujoco><worldbody><body name='torso/0'></worldbody></mujoco>", "malformed XML"),
        "truncated.xml": (text[: len(text) // 2], "malformed XML"),
        "empty.xml": ("", "malformed XML"),
        "no_torso.xml": (
            "<mujoco><worldbody><body name='box'><freejoint/><geom type='box' size='1 1 1'/></body>"
            "</worldbody></mujoco>",
            "not a UNIMAL robot",
        ),
        "no_free_joint.xml": (text.replace('<joint name="root" type="free" class="free"/>', ""), "no free joint"),
        "too_many_limbs.xml": (_too_many_limbs(), "too many limbs"),
        "too_many_motors.xml": (_too_many_motors(), "too many motors"),
        "unknown_joint.xml": (text.replace('name="limbx/15"', 'name="knee"'), "unknown joint 'knee'"),
        "motor_missing_joint.xml": (
            text.replace("</actuator>", '<motor joint="limbx/99" gear="150" name="extra"/></actuator>'),
            "unknown joint 'limbx/99'",
        ),
        "not_mjcf.xml": ("<robot name='urdf'/>", "not an MJCF file"),
    }


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


@pytest.mark.parametrize(
    "case",
    [
        "malformed.xml",
        "truncated.xml",
        "empty.xml",
        "no_torso.xml",
        "no_free_joint.xml",
        "too_many_limbs.xml",
        "too_many_motors.xml",
        "unknown_joint.xml",
        "motor_missing_joint.xml",
        "not_mjcf.xml",
    ],
)
def test_validate_bad_file_one_line_and_valid_files_still_reported(case, good_xml, tmp_path, capsys):
    content, fragment = _bad_files(good_xml)[case]
    bad = tmp_path / case
    bad.write_text(content)
    code = main(["morph", "validate", str(good_xml), str(bad), "gen-train-001"])
    out, err = capsys.readouterr()
    assert code == 1
    lines = _lines(err)
    assert len(lines) == 1, err
    assert str(bad) in lines[0] and fragment in lines[0], lines[0]
    assert "Traceback" not in err
    assert PUBLISHED in out and "gen-train-001" in out  # the valid robots are still reported


def test_validate_missing_path(good_xml, tmp_path, capsys):
    missing = tmp_path / "nope" / "robot.xml"
    code = main(["morph", "validate", str(missing), str(good_xml)])
    out, err = capsys.readouterr()
    assert code == 2
    lines = _lines(err)
    assert len(lines) == 1 and str(missing) in lines[0] and "no such file" in lines[0]
    assert PUBLISHED in out


def test_validate_directory_with_bad_files_continues(good_xml, tmp_path, capsys):
    bad = _bad_files(good_xml)
    for name in ("truncated.xml", "unknown_joint.xml", "too_many_motors.xml"):
        (tmp_path / name).write_text(bad[name][0])
    (tmp_path / "good.xml").write_text(good_xml.read_text())
    code = main(["morph", "validate", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 1
    assert len(_lines(err)) == 3
    assert "good" in out and "1 robots" in out


def test_load_robots_raises_one_line_errors(good_xml, tmp_path):
    from workbench.errors import WorkbenchError

    for name, (content, fragment) in _bad_files(good_xml).items():
        path = tmp_path / name
        path.write_text(content)
        with pytest.raises(WorkbenchError) as info:
            Morphology.from_xml(path)
        message = str(info.value)
        assert "\n" not in message and str(path) in message and fragment in message


def test_validate_published_sets_reports_duplicates_and_overlaps(unimal_dir, capsys):
    code = main(["morph", "validate", str(unimal_dir / "train"), str(unimal_dir / "test" / "xml")])
    out, err = capsys.readouterr()
    assert code == 0 and err.strip() == ""
    assert "100 robots, limbs 4-10, DoF 5-15" in out
    assert "102 robots, limbs 5-10, DoF 6-16" in out
    assert "6 group(s), 7 redundant" in out and "11 group(s), 12 redundant" in out
    assert "overlaps between" in out and ": 5 robot(s)" in out
    header = next(line for line in out.splitlines() if line.startswith("name"))
    for column in ("limbs", "dof", "motors", "mass", "height"):
        assert column in header


def test_validate_suite(capsys):
    code = main(["morph", "validate", "generated-train", "generated-test", "--quiet"])
    out, _ = capsys.readouterr()
    assert code == 0
    assert "generated-train: 100 robots" in out and "generated-test: 100 robots" in out
    assert "overlaps between generated-train and generated-test: none" in out


def test_generate_writes_unimal_layout(tmp_path, capsys):
    out_dir = tmp_path / "gen"
    assert main(["morph", "generate", "--n", "4", "--seed", "11", "--out", str(out_dir)]) == 0
    xmls = sorted((out_dir / "xml").glob("*.xml"))
    assert [p.stem for p in xmls] == [f"gen-11-{i:03d}" for i in range(4)]
    for path in xmls:
        meta = json.loads((out_dir / "metadata" / f"{path.stem}.json").read_text())
        morph = Morphology.from_xml(path)
        assert meta["num_limbs"] == morph.num_limbs and meta["dof"] == morph.num_joints
        assert "symmetric_limbs" in meta and meta["seed"][0] == 11
    again = tmp_path / "again"
    main(["morph", "generate", "--n", "4", "--seed", "11", "--out", str(again)])
    assert [p.read_text() for p in xmls] == [p.read_text() for p in sorted((again / "xml").glob("*.xml"))]
    assert len(load_robots(out_dir)) == 4


def test_mutate_writes_mutants_with_operators(good_xml, tmp_path, capsys):
    out_dir = tmp_path / "mut"
    code = main(
        ["morph", "mutate", str(good_xml), "gen-test-002", "--per-robot", "3", "--seed", "5", "--out", str(out_dir)]
    )
    assert code == 0
    xmls = sorted((out_dir / "xml").glob("*.xml"))
    assert len(xmls) == 6
    for path in xmls:
        meta = json.loads((out_dir / "metadata" / f"{path.stem}.json").read_text())
        assert 1 <= len(meta["mutations"]) <= 3
        assert path.stem.endswith("-".join(meta["mutations"]))
        assert meta["parent"] in (PUBLISHED, "gen-test-002") and meta["seed"][0] == 5
        morph = Morphology.from_xml(path)
        assert morph.mutations == tuple(meta["mutations"])
        assert morph.num_bodies <= 12 and morph.num_joints <= 16


def test_mutate_reports_bad_sources_and_continues(tmp_path, capsys):
    bad = tmp_path / "bad.xml"
    bad.write_text("<mujoco>")
    code = main(["morph", "mutate", str(bad), "gen-train-000", "--per-robot", "1", "--out", str(tmp_path / "o")])
    _, err = capsys.readouterr()
    assert code == 1 and len(_lines(err)) == 1 and "bad.xml" in err
    assert len(list((tmp_path / "o" / "xml").glob("*.xml"))) == 1


def test_cli_subprocess_help_and_validate(unimal_dir):
    env_cmd = [sys.executable, "-m", "workbench", "morph"]
    for sub in ("validate", "generate", "mutate"):
        result = subprocess.run(env_cmd + [sub, "--help"], capture_output=True, text=True, cwd=REPO)
        assert result.returncode == 0 and "usage" in result.stdout
    result = subprocess.run(
        env_cmd + ["validate", str(unimal_dir / "test" / "xml"), str(unimal_dir / "nothing.xml")],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert result.returncode == 2
    assert _lines(result.stderr) == [f"error: {unimal_dir / 'nothing.xml'}: no such file or directory"]
    rows = [line for line in result.stdout.splitlines() if line.startswith(("floor-", "vt-", "mvt-"))]
    assert len(rows) == 102  # one row per robot (duplicate listings are indented)


def test_show(good_xml, capsys):
    assert main(["morph", "show", str(good_xml)]) == 0
    out, _ = capsys.readouterr()
    assert "8 limbs, 11 DoF" in out and "limb/15" in out and "limby/15" in out and "[-60, 30]" in out
    assert main(["morph", "show", "gen-train-000"]) == 0
    assert main(["morph", "show", "gen-train-999"]) == 2
    _, err = capsys.readouterr()
    assert len(_lines(err)) == 1 and "gen-train-999" in err


def test_generate_v1_reproduces_the_v1_suite(tmp_path):
    from workbench.morphology.suites import SUITE_SPECS

    seed = SUITE_SPECS["generated-train"].seed
    assert main(["morph", "generate", "--n", "3", "--seed", str(seed), "--prefix", "gen-train",
                 "--generator", "v1", "--out", str(tmp_path)]) == 0
    assert [m.to_xml() for m in load_robots(tmp_path)] == [m.to_xml() for m in suite("generated-train")[:3]]


def test_stats_prints_sets_side_by_side_and_json(tmp_path, capsys):
    assert main(["morph", "generate", "--n", "5", "--seed", "3", "--out", str(tmp_path)]) == 0
    capsys.readouterr()
    assert main(["morph", "stats", "generated-train", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:2] == ["generated-train", str(tmp_path)] and "published train" in lines[0]
    width = len(lines[1].split()[0])  # the label column
    rows = {line[:width].strip(): line[width:].split() for line in lines[2:]}
    assert rows["mean limbs"][0] == "6.30" and rows["mean limbs"][2] == "8.07"
    assert rows["robots"] == ["100", "5", "100"]
    assert main(["morph", "stats", "--json", str(tmp_path)]) == 0
    data = json.loads(capsys.readouterr().out)[str(tmp_path)]
    robots = load_robots(tmp_path)
    assert data["robots"] == 5 and data["mean_limbs"] == pytest.approx(np.mean([m.num_limbs for m in robots]))
    assert sum(data["limb_histogram"].values()) == pytest.approx(1.0)


def test_stats_missing_path_is_one_line(tmp_path, capsys):
    code = subprocess.run([sys.executable, "-m", "workbench", "morph", "stats", str(tmp_path / "nope")],
                          capture_output=True, text=True)
    assert code.returncode != 0 and len(code.stderr.strip().splitlines()) == 1 and "nope" in code.stderr

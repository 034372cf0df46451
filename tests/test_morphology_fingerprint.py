"""Structural fingerprints: duplicates within a set and overlaps between sets."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from workbench.morphology import Morphology, builtin_robot, find_duplicates, fingerprint, mutate
from workbench.morphology.generator import renumber
from workbench.morphology.geometry import depth_first


def test_known_published_duplicates(unimal_dir):
    train = unimal_dir / "train" / "xml"
    test = unimal_dir / "test" / "xml"
    # byte-identical files under two names (train and test)
    a = Morphology.from_xml(train / "floor-5506-12-12-01-15-33-01.xml")
    b = Morphology.from_xml(test / "floor-5506-2-0-01-11-27-44.xml")
    assert a.name != b.name and fingerprint(a) == fingerprint(b)
    # within train: files differ only in (non-physical) sites
    c = Morphology.from_xml(train / "floor-1409-1-4-01-09-49-50.xml")
    d = Morphology.from_xml(train / "floor-1409-11-8-01-08-25-42.xml")
    assert fingerprint(c) == fingerprint(d)
    assert fingerprint(a) != fingerprint(c)


def test_duplicate_counts_in_published_sets(unimal_dir):
    def load(name):
        return [(p.stem, Morphology.from_xml(p)) for p in sorted((unimal_dir / name / "xml").glob("*.xml"))]

    train, test = load("train"), load("test")
    train_groups = find_duplicates(train)
    test_groups = find_duplicates(test)
    assert sum(len(g) - 1 for g in train_groups) == 7  # 6 groups, 7 redundant robots
    assert sum(len(g) - 1 for g in test_groups) == 12  # 11 groups, 12 redundant robots
    train_fps = {fingerprint(m) for _, m in train}
    overlap = [name for name, m in test if fingerprint(m) in train_fps]
    assert len(overlap) == 5
    assert "floor-5506-2-0-01-11-27-44" in overlap  # a duplicate under another name


def test_independent_of_names_ids_and_sibling_order():
    morph = builtin_robot("gen-train-007")
    fp = fingerprint(morph)
    assert fingerprint(morph.with_name("other")) == fp
    # shift every limb id (names change, structure does not)
    shifted = replace(
        morph,
        limbs=tuple(replace(lb, id=lb.id + 40, parent=None if lb.parent is None else lb.parent + 40) for lb in morph.limbs),
        symmetric_pairs=tuple((a + 40, b + 40) for a, b in morph.symmetric_pairs),
        contact_excludes=(),
    )
    assert fingerprint(shifted) == fp
    # reverse the order of siblings (a different MuJoCo body order, same robot)
    reordered = replace(morph, limbs=depth_first(list(reversed(morph.limbs))))
    assert [lb.id for lb in reordered.limbs] != [lb.id for lb in morph.limbs]
    assert fingerprint(reordered) == fp
    assert fingerprint(renumber(reordered)) == fp
    # and the height the torso starts at is a placement, not structure
    assert fingerprint(replace(morph, torso=replace(morph.torso, pos=(0.0, 0.0, 3.0)))) == fp


def test_structural_changes_change_the_fingerprint():
    morph = builtin_robot("gen-train-008")
    fp = fingerprint(morph)
    rng = np.random.default_rng(0)
    for _ in range(10):
        assert fingerprint(mutate(morph, rng, steps=1)) != fp
    assert fingerprint(replace(morph, torso=replace(morph.torso, density=morph.torso.density + 100))) != fp

"""The seven mutation operators and mutate()."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.morphology import MUTATION_OPERATORS, Morphology, builtin_robot, fingerprint, mutate
from workbench.morphology.mutation import OPERATORS, apply_operator
from workbench.morphology.validation import contacts_at_rest, is_symmetric


def _valid(mutant: Morphology, source: Morphology) -> None:
    assert mutant.num_bodies <= 12 and mutant.num_joints <= 16
    assert mutant.num_limbs >= 2
    assert is_symmetric(mutant)
    new_contacts = {frozenset(c) for c in contacts_at_rest(mutant)} - {frozenset(c) for c in contacts_at_rest(source)}
    assert not new_contacts
    again = Morphology.from_xml_string(mutant.to_xml(), name=mutant.name, metadata=mutant.metadata_dict())
    assert again == mutant


def test_seven_operators():
    assert MUTATION_OPERATORS == ("grow_limb", "delete_limb", "limb_params", "density", "joint_angle", "gear", "dof")
    assert set(OPERATORS) == set(MUTATION_OPERATORS)


@pytest.mark.parametrize("op", MUTATION_OPERATORS)
def test_each_operator_changes_what_it_says(op):
    rng = np.random.default_rng(0)
    src = builtin_robot("gen-train-005")
    assert src.num_limbs >= 4
    mutant = apply_operator(src, op, rng)
    assert mutant is not None
    _valid(mutant, src)
    assert fingerprint(mutant) != fingerprint(src)
    if op == "grow_limb":
        assert mutant.num_limbs in (src.num_limbs + 1, src.num_limbs + 2)
    elif op == "delete_limb":
        assert mutant.num_limbs in (src.num_limbs - 1, src.num_limbs - 2)
        assert set(lb.id for lb in mutant.limbs) < set(lb.id for lb in src.limbs)
    elif op == "limb_params":
        assert [lb.length for lb in mutant.limbs] != [lb.length for lb in src.limbs]
        assert mutant.num_joints == src.num_joints
    elif op == "density":
        assert (mutant.torso.density, mutant.limbs[0].density) != (src.torso.density, src.limbs[0].density)
        assert len({lb.density for lb in mutant.limbs}) == 1
    elif op == "joint_angle":
        assert [j.range for lb in mutant.limbs for _, j in lb.joints] != [j.range for lb in src.limbs for _, j in lb.joints]
        assert [j.gear for lb in mutant.limbs for _, j in lb.joints] == [j.gear for lb in src.limbs for _, j in lb.joints]
    elif op == "gear":
        assert [j.gear for lb in mutant.limbs for _, j in lb.joints] != [j.gear for lb in src.limbs for _, j in lb.joints]
    elif op == "dof":
        assert mutant.num_joints != src.num_joints or mutant.joint_names() != src.joint_names()
        assert mutant.num_limbs == src.num_limbs


def test_delete_limb_respects_leaves_mirrors_and_minimum():
    rng = np.random.default_rng(1)
    src = builtin_robot("gen-train-000")
    for _ in range(5):
        mutant = apply_operator(src, "delete_limb", rng)
        assert mutant is not None
        removed = {lb.id for lb in src.limbs} - {lb.id for lb in mutant.limbs}
        assert removed and removed <= set(src.leaf_ids())
        for limb_id in removed:
            mirror = src.mirror_of(limb_id)
            assert mirror is None or mirror in removed


def _two_legged() -> Morphology:
    from workbench.morphology.generator import place_torso
    from workbench.morphology.geometry import direction, make_limb
    from workbench.morphology.model import Torso

    joint = ((-30.0, 30.0), 200.0)
    limbs = (
        make_limb(0, None, np.zeros(3), direction(0, 135), 0.3, 800, joint, None),
        make_limb(1, None, np.zeros(3), direction(180, 135), 0.3, 800, None, joint),
    )
    return place_torso(Morphology(name="biped", torso=Torso(density=700), limbs=limbs))


def test_delete_limb_never_below_two_limbs():
    rng = np.random.default_rng(0)
    robot = _two_legged()
    assert contacts_at_rest(robot) == []
    assert apply_operator(robot, "delete_limb", rng) is None
    # mutate() then falls back to other operators
    mutant = mutate(robot, rng, steps=2)
    assert mutant.num_limbs >= 2 and len(mutant.mutations) == 2


def test_mutants_are_valid_and_record_operators():
    rng = np.random.default_rng(2024)
    seen_ops = set()
    for i in range(12):
        src = builtin_robot(f"gen-train-{i:03d}")
        for _ in range(3):
            mutant = mutate(src, rng)
            _valid(mutant, src)
            assert 1 <= len(mutant.mutations) <= 3
            assert set(mutant.mutations) <= set(MUTATION_OPERATORS)
            assert mutant.name == f"{src.name}-mutate-{'-'.join(mutant.mutations)}"
            assert mutant.metadata_dict()["mutations"] == list(mutant.mutations)
            seen_ops.update(mutant.mutations)
    assert seen_ops == set(MUTATION_OPERATORS)


def test_mutation_steps_and_chaining():
    src = builtin_robot("gen-test-001")
    m3 = mutate(src, np.random.default_rng(0), steps=3)
    assert len(m3.mutations) == 3
    m4 = mutate(m3, np.random.default_rng(1), steps=1)
    assert m4.mutations[:3] == m3.mutations and len(m4.mutations) == 4


def test_same_seed_same_mutant():
    src = builtin_robot("gen-train-010")
    a = mutate(src, np.random.default_rng(9))
    b = mutate(src, np.random.default_rng(9))
    assert a.to_xml() == b.to_xml() and a.mutations == b.mutations


def test_published_robots_mutate(unimal_dir):
    rng = np.random.default_rng(3)
    for path in sorted((unimal_dir / "train" / "xml").glob("*.xml"))[:15]:
        src = Morphology.from_xml(path)
        mutant = mutate(src, rng)
        _valid(mutant, src)

"""Mutation operators (placeholder, filled in next)."""

MUTATION_OPERATORS = ("grow_limb", "delete_limb", "limb_params", "density", "joint_angle", "gear", "dof")


def mutate(morph, rng, steps=None):
    raise NotImplementedError("mutation not landed yet")

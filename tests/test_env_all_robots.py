"""Every published UNIMAL robot runs 1000 random-action FT steps with finite observations."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.envs import VectorUnimalEnv
from workbench.envs import layout as L

BATCH = 128  # robots per vector env, one env each
STEPS = 1000


@pytest.mark.slow
def test_every_published_robot_runs_1000_random_ft_steps(unimal_dir):
    paths = sorted(unimal_dir.glob("*/xml/*.xml"))
    assert len(paths) == 1202
    rng = np.random.default_rng(0)
    unstable = {}
    for start in range(0, len(paths), BATCH):
        chunk = paths[start : start + BATCH]
        venv = VectorUnimalEnv(chunk, len(chunk), task="ft", num_threads=2)
        obs, _ = venv.reset(seed=start)
        for _ in range(STEPS):
            obs, reward, terminated, truncated, info = venv.step(rng.uniform(-1.0, 1.0, (len(chunk), L.ACTION_DIM)))
            assert np.isfinite(obs[L.OBS_PROPRIOCEPTIVE]).all() and np.isfinite(reward).all()
            for i in np.flatnonzero(info["physics_unstable"]):
                unstable[chunk[i].stem] = unstable.get(chunk[i].stem, 0) + 1
        for key in (L.OBS_CONTEXT, L.OBS_LIMB_MASK, L.OBS_ACTION_MASK):
            assert np.isfinite(obs[key]).all()
        venv.close()
    # random actions must not blow the published robots up (flagged, never silent)
    assert not unstable, f"physics blow-ups: {unstable}"

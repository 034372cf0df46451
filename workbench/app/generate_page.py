"""Generate MLP page: a distilled hypernetwork writes the current robot's own small MLP."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from workbench.app import figures
from workbench.app.policies import generate_mlp
from workbench.app.shipped import discover
from workbench.app.state import recall, remember
from workbench.app.widgets import load_checkpoint_cached, robot_banner, show_missing
from workbench.errors import WorkbenchError

TYPED_PATH = "a checkpoint path I type"


def layer_table(mlp: Any) -> pd.DataFrame:
    """One row per linear layer of a generated MLP: shape, parameters and FLOPs per step."""
    rows = []
    for key, weight in mlp.arrays.items():
        if not key.endswith("_weight"):
            continue
        name = key.removesuffix("_weight")
        bias = mlp.arrays.get(f"{name}_bias")
        rows.append({"layer": name, "inputs": int(weight.shape[0]), "outputs": int(weight.shape[1]),
                     "parameters": int(weight.size + (0 if bias is None else bias.size)),
                     "FLOPs per step": int(2 * weight.shape[0] * weight.shape[1])})
    return pd.DataFrame(rows)


def npz_bytes(mlp: Any) -> bytes:
    """The generated MLP as the ``.npz`` file of ``workbench.deploy`` (what ``load_mlp`` reads)."""
    with tempfile.TemporaryDirectory(prefix="workbench-mlp-") as folder:
        return mlp.save(Path(folder) / "mlp.npz").read_bytes()


def agreement(checkpoint: Any, mlp: Any, morphology: Any) -> float:
    """Largest |action difference| between the hypernetwork and its generated MLP on the robot's
    first observation (float rounding only, when generation is right)."""
    import torch

    from workbench.envs import make_env

    env = make_env(morphology, task=checkpoint.config.task)
    try:
        obs, _ = env.reset(seed=0)
    finally:
        env.close()
    with torch.inference_mode():
        reference = checkpoint.policy({k: torch.as_tensor(v)[None] for k, v in obs.items()})[0].numpy()
    return float(np.max(np.abs(mlp.act(obs) - reference)))


def _choose_checkpoint() -> Path | None:
    shipped = discover()
    options = {f"{run.name} ({run.checkpoint})": run.checkpoint for run in shipped.hypernetworks}
    if not options:
        show_missing(shipped, "No distilled HyperDistill student is shipped yet "
                     f"(expected `{shipped.root}/distill-ft/hyperdistill/student.pt`); type the path of one below.")
    best = shipped.best_hypernetwork()
    labels = [*options, TYPED_PATH]
    default = next((i for i, label in enumerate(labels) if best is not None and options.get(label) == best.checkpoint), 0)
    choice = st.selectbox("Hypernetwork checkpoint", labels, index=default, key="hn_choice",
                          help="preselected: the one with the best return on the training robots in the results table")
    if choice != TYPED_PATH:
        return options[choice]
    typed = st.text_input("Path to a HyperDistill checkpoint (.pt)", key="hn_path").strip()
    return Path(typed).expanduser() if typed else None


def _teacher_cost() -> tuple[int, int] | None:
    from workbench.analysis.flops import count_policy

    teacher = discover().teacher
    if teacher is None:
        return None
    count = count_policy(load_checkpoint_cached(teacher).config)
    return int(count.params), int(count.flops)


def _show(mlp: Any, gap: float, robot_name: str, hn_name: str) -> None:
    bodies, motors = int(mlp.limb_mask.sum()), int(mlp.action_mask.sum())
    st.success(f"Generated the MLP of {mlp.robot}: {mlp.num_parameters:,} parameters, {mlp.flops_per_step:,} FLOPs "
               f"per step, reading {bodies} bodies (torso and {bodies - 1} limbs) and driving {motors} motors. "
               f"Largest difference from the hypernetwork's own action on the robot's first observation: {gap:.2e}.")
    try:
        teacher = _teacher_cost()
    except WorkbenchError as error:
        st.warning(f"teacher: {error}")
        teacher = None
    left, middle, right = st.columns(3)
    left.metric("Parameters", f"{mlp.num_parameters:,}")
    middle.metric("FLOPs per step", f"{mlp.flops_per_step:,}")
    if teacher is not None:
        right.metric("vs the teacher's FLOPs", f"{mlp.flops_per_step / teacher[1]:.1%}",
                     help=f"teacher: {teacher[0]:,} parameters, {teacher[1]:,} FLOPs per step (all 12 limb slots)")
    else:
        right.metric("vs the teacher's FLOPs", "n/a", help="no shipped teacher checkpoint")
    st.dataframe(layer_table(mlp), hide_index=True, width="stretch")
    names, params, flops = ["generated MLP"], [mlp.num_parameters], [mlp.flops_per_step]
    if teacher is not None:
        names.append("teacher")
        params.append(teacher[0])
        flops.append(teacher[1])
    st.plotly_chart(figures.cost_figure(names, params, flops), width="stretch")
    st.download_button("Download the MLP (.npz)", npz_bytes(mlp), file_name=f"{robot_name}-{hn_name}.npz",
                       mime="application/octet-stream", key="download_mlp")
    st.caption("Run it anywhere with numpy only: `workbench.deploy.load_mlp(path).act(observation)`.")


def generate_page() -> None:
    """The Generate MLP page: choose a hypernetwork, generate the current robot's MLP, inspect, download."""
    st.title("Generate MLP")
    st.caption("HyperDistill's hypernetwork reads the robot's morphology once and writes the weights of a small "
               "MLP that controls that robot alone; the MLP then runs without the hypernetwork.")
    robot, robot_print = robot_banner()
    path = _choose_checkpoint()
    if path is None:
        return
    key = (robot_print, str(path), path.stat().st_mtime_ns if path.is_file() else 0)
    if st.button("Generate the robot's MLP", key="generate_mlp", type="primary"):
        try:
            with st.spinner("Generating the MLP..."):
                checkpoint = load_checkpoint_cached(path)
                mlp = generate_mlp(checkpoint, robot)
                remember("generated", key, (mlp, agreement(checkpoint, mlp, robot)))
        except WorkbenchError as error:
            st.error(str(error))
            return
    result = recall("generated", key)
    if result is None:
        st.info("Press the button to generate this robot's MLP.")
        return
    _show(result[0], result[1], robot.name, path.parent.name if path.name == "student.pt" else path.stem)


if __name__ == "__main__":  # Streamlit runs each page file as __main__ (st.navigation in main.py)
    generate_page()

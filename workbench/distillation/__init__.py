"""Policy distillation (the paper's Section 3.3): PD robots, teacher datasets, students.

    build_pd_robots(training, mutants_per_robot, seed) -> (list[PDRobot], PDSetReport)
    collect_dataset(teacher_ckpt, robots_spec, out_dir, CollectConfig(...), behaviour_path=None) -> manifest
    DistillDataset(dir)            memory-mapped reading; .verify() checks every sha256
    open_datasets([dir, ...])      one dataset, or a DatasetUnion of DAgger rounds read as one
    distillation_loss(mu_s, mu_t, action_mask, std) -> scalar KL
    Distiller(DistillConfig, dataset, student, run_dir, resume).train()
    get_distill_config("workbench-ft" | "paper-ft" | "tiny")
"""

from workbench.distillation.batching import ChunkSampler, Minibatch
from workbench.distillation.collect import CollectConfig, collect_dataset
from workbench.distillation.config import NAMED_CONFIGS, DistillConfig, get_distill_config
from workbench.distillation.dataset import DatasetUnion, DistillDataset, open_datasets
from workbench.distillation.loss import distillation_loss
from workbench.distillation.pd_robots import PDRobot, PDSetReport, build_pd_robots
from workbench.distillation.student import STUDENT_METHODS, GroupedStudent, build_student, hyperdistill_grouped
from workbench.distillation.trainer import Distiller

__all__ = [
    "ChunkSampler", "CollectConfig", "DatasetUnion", "DistillConfig", "DistillDataset", "Distiller", "GroupedStudent",
    "Minibatch",
    "NAMED_CONFIGS", "PDRobot", "PDSetReport", "STUDENT_METHODS", "build_pd_robots", "build_student",
    "collect_dataset", "distillation_loss", "get_distill_config", "hyperdistill_grouped",
    "open_datasets",
]

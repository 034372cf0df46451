"""HyperDistill Workbench: universal morphology control with distilled hypernetworks."""

__version__ = "0.1.0"

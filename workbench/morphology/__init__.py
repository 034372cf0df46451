"""morphology package."""

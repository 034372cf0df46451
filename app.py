"""Streamlit entry point: `make app` (or `streamlit run app.py`). The pages live in workbench.app."""

from workbench.app.main import run_app

run_app()

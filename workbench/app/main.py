"""Page navigation of the Streamlit app.

Each page is one module of this package that Streamlit runs as a script (``st.Page(path)``), so
that the pages are real files AppTest can switch to; the modules render only when run as
``__main__`` and stay importable (their helpers are tested directly).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from workbench.app.shipped import discover
from workbench.app.state import current_robot

PAGES = Path(__file__).resolve().parent
# (module file, title, URL path). No material icons: the browser would fetch them from Google's
# servers, which an offline machine cannot reach.
PAGE_TABLE = (
    ("robots_page.py", "Robots", "robots"),
    ("generate_page.py", "Generate MLP", "generate-mlp"),
    ("rollout_page.py", "Rollout", "rollout"),
    ("compare_page.py", "Compare", "compare"),
    ("training_page.py", "Training", "training"),
)


def run_app() -> None:
    """Configure the page and run the selected page of the navigation."""
    st.set_page_config(page_title="HyperDistill Workbench", layout="wide")
    pages = [
        st.Page(PAGES / file, title=title, url_path=url, default=(i == 0))
        for i, (file, title, url) in enumerate(PAGE_TABLE)
    ]
    page = st.navigation(pages)
    summary = st.sidebar.empty()  # filled after the page ran: the page may change the robot
    page.run()
    shipped = discover()
    missing = f" · not there yet: {', '.join(shipped.missing())}" if shipped.missing() else ""
    summary.caption(f"Current robot: **{current_robot().name}** · checkpoints: `{shipped.root}`{missing}")

"""Page navigation of the Streamlit app."""

from __future__ import annotations

import streamlit as st

from workbench.app.robots_page import robots_page


def run_app() -> None:
    """Configure the page and run the selected page of the navigation."""
    st.set_page_config(page_title="HyperDistill Workbench", layout="wide")
    pages = [
        st.Page(robots_page, title="Robots", url_path="robots", default=True),
    ]
    st.navigation(pages).run()

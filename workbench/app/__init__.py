"""The Streamlit app's pages. ``app.py`` at the repository root only calls :func:`run_app`."""

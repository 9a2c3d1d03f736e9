"""The GLP Sync dashboard (Streamlit): `uv run streamlit run streamlit_app/app.py`."""

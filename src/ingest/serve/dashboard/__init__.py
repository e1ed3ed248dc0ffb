"""The PeaceOps dashboard: a Streamlit app over the published dataset (read-only)."""

"""The only Streamlit code inside leadcore: the per-run session and shared page components."""

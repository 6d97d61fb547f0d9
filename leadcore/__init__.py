"""leadcore: the lead-management desk of a car dealership (services usable without Streamlit)."""

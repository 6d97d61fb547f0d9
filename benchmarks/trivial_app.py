import streamlit as st

st.title("Trivial page")
name = st.text_input("Name")
st.write(f"Hello {name or 'world'}: the load generator's baseline.")

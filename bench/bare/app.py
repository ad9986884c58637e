"""The baseline for bench/rerun_table.py: a bare Streamlit page with one slider, nothing else.

Its rerun is the cheapest a Streamlit control can be on this machine (the script, the delta, one
React commit); the app's controls are measured with the same probe in the same run beside it."""
import streamlit as st

x = st.slider("x", 0, 100, 50, key="x")
st.write(f"x² = {x * x}")

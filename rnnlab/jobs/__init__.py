"""Training jobs in their own processes: runner, job process, pipe messages, compute slots (no streamlit)."""

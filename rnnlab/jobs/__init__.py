"""Training jobs in their own processes: the runner, the job process, the compute slots (no streamlit)."""

"""Figure builders: plain plotly dicts for every chart (no streamlit)."""

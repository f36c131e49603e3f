"""rnnlab: learn and tune recurrent networks on time series. The core never imports streamlit."""

__version__ = "0.1.0"

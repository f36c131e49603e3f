"""Analysis of a model or run: shape traces, probes of the inside, forecasts, run comparison."""

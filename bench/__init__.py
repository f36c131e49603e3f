"""rnnlab's benchmarks: scripts that print figures next to their targets (not tests; no timing asserts).

`python -m bench [--quick]` runs them all; each also runs alone: `python bench/live_browser.py --quick`."""

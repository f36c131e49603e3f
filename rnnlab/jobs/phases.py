"""A run's phases that the pages and the runner both name; no imports, so a page can use them before
the job layer (and PyTorch) is loaded."""

# The phases in which a run computes (or is about to): Pause applies, the live view redraws.
ACTIVE = ("starting", "running", "queued")

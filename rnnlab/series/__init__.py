"""Series: synthetic generators, bundled real datasets, CSV reading, splits, scaling and windows."""

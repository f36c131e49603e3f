"""Exports: a standalone PyTorch script assembled from the core's own source, safe weight import."""

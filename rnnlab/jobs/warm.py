"""Imported once by the job fork server: warms PyTorch up there, so every job forked from it starts warm."""

from rnnlab.jobs.worker import warm_up

warm_up()

"""Learning: the recurrent model, the step-wise trainer and the per-step history it writes."""

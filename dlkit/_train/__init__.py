"""Stage 6: a plan trained under a strategy, written to a run directory: `dlkit.train`."""

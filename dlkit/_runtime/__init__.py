"""Stage 3: where and how fast training runs: strategies, clusters, precision, steps per call."""

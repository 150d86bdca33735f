"""Stage 9: hyperparameter search over a spec's search spaces, on KerasTuner's oracles."""

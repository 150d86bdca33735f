"""Stage 5: a plan becomes a compiled Keras model; saved models load back in safe mode."""

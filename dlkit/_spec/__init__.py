"""Stage 2: spec text to plain data whose structure is sound (pass 1 of validation). No Keras."""

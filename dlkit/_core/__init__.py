"""Stage 0: what every stage shares: errors and atomic files. No Keras, no TensorFlow."""

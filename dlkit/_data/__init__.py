"""Stage 3: data sources, loaded into NumPy arrays or tf.data pipelines, and labels fitted to losses."""

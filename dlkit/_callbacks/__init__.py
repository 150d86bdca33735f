"""Stage 3: the Keras callbacks dlkit brings: backups, guards, the run log, TensorBoard, progress.

None of them reads a spec: `dlkit._train.callbacks` makes them from a plan.
"""

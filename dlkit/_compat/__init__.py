"""Stage 1: the one home of every private TensorFlow, Keras, TensorBoard and KerasTuner API
dlkit uses.

Each entry is its own module, names the upstream issue or says "no public API", the versions it
was checked on, and has a test that fails when it breaks (``tests/test_compat.py``,
``tests/test_multi_worker.py``). ``tests/test_layers.py`` fails on any such use elsewhere.

- `registry` (read): Keras' full name tables, for did-you-mean. No public API.
- `context` (read): whether TensorFlow's runtime has started. No public API.
- `callbacks` (subclass hooks): `BackupAndRestore`'s saving, loading and epoch counting, and
  `fit`'s initial epoch; `TensorBoard`'s tracing state, train graph and test writer. No public
  API.
- `tensorboard` (write): ``SessionLog.START`` events for resumed runs. No public API.
- `metrics` (read): which way a metric improves, for monitors of several outputs. No public API.
- `multi_worker` (patch): keras-team/keras#20585, `model.fit` with several workers.
- `gradients` (release): tensorflow/tensorflow#97697, the custom gradients every trained model
  leaves in TensorFlow's gradient registry, with its graphs.
- `keras_tuner` (serve, switch): KerasTuner's oracle served over gRPC with its calls reported
  (keras-team/keras-tuner#254, #990), and its tracebacks of failed trials off. No public API.

Importing this package imports nothing; each module imports what it reaches into.
"""

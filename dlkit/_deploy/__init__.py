"""Stage 11: using a trained run: predict on raw data, export it, serve it over HTTP (issue 19).

One concern a module:

- ``trained``: a run directory opened for use: its plan, its model, its class names (from
  ``run.json``), its inputs and their names in exports;
- ``calling``: the model as one compiled function of a batch (predict, export, serve);
- ``float32``: the model as every export carries it: a float32 twin, in inference mode;
- ``extras``: the optional packages a command needs, and the extra that installs them;
- ``readers/``: input files (npz, csv, images, text) read in batches as training read them;
- ``samples``: the run's own samples (validation to check exports on, training to calibrate);
- ``table``: model outputs as rows of a predictions CSV (class names, probabilities, values);
- ``predict``: ``dlkit.predict`` and ``dlkit predict``, in batches with a progress display;
- ``carry``: what a format cannot carry, refused before converting;
- ``runtimes``: an export loaded in its own runtime (TensorFlow, ONNX Runtime, LiteRT);
- ``compare``: an export's outputs against the model's (difference, agreement, accuracy);
- ``export``: ``dlkit.export``: Keras' own export, checked, written atomically, recorded;
- ``serve/``: ``dlkit.serve``: TensorFlow Serving's REST predict API on Starlette and Uvicorn,
  with concurrent requests batched into one model call.
"""

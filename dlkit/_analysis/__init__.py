"""Loss landscapes, sharpness and training diagnostics of compiled Keras models (issue 17).

The numerical core takes Keras models and NumPy arrays and leaves the models' weights as it found
them. One concern a module:

- ``directions``: random filter-normalised directions (Li et al. 2018);
- ``surface``: the loss over a plane and along a line, batched and in-graph;
- ``trajectory``: the plane of a training path (its principal directions) and its surface;
- ``sharpness``: top Hessian eigenvalue (power iteration) and epsilon-sharpness (Keskar et al.);
- ``float32``: a mixed-precision model's float32 twin, for measurements in full precision;
- ``pictures``: PNGs of a surface, its contours (and a path) and a line (no pyplot);
- ``landscape``: all of the above written to a folder and to TensorBoard;
- ``diagnose``: per-layer dead, saturated, symmetric units and gradient norms, before and
  after a few training steps.

On top, what the public API and the CLI call: ``run_landscape`` (``dlkit.landscape``: a run
directory's model, weights and data through ``runfiles``, with ``gridprogress`` on the
terminal) and ``spec_diagnose`` (``dlkit.diagnose``: a spec's model on its data, histograms
beside its runs). ``limits`` holds the argument ranges and imports nothing (the CLI's parser
uses it).

Import the functions from their modules (``from dlkit._analysis.sharpness import sharpness``):
several modules share their function's name, so the package itself exports nothing, and
importing it does not import TensorFlow.
"""

"""Loss landscapes, sharpness and training diagnostics of compiled Keras models (issue 17).

Everything here takes Keras models and NumPy arrays and leaves the models' weights as it found
them; only ``landscape_files`` writes files. One concern a module:

- ``directions``: random filter-normalised directions (Li et al. 2018);
- ``surface``: the loss over a plane and along a line, batched and in-graph;
- ``sharpness``: top Hessian eigenvalue (power iteration) and epsilon-sharpness (Keskar et al.);
- ``pictures``: PNGs of a surface, its contours and a line (matplotlib Figures, no pyplot);
- ``landscape``: all of the above written to a folder and to TensorBoard;
- ``diagnose``: per-layer dead, saturated, symmetric units and gradient norms, before and
  after a few training steps.

Import the functions from their modules (``from dlkit._analysis.sharpness import sharpness``):
two modules share their function's name, so the package itself exports nothing, and importing it
does not import TensorFlow.
"""

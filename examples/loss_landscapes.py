"""Loss landscapes: small vs large batches, a learning-rate schedule's path, initialisation.

Run:  python examples/loss_landscapes.py

1. Small vs large batches (Keskar et al. 2017). The same network trained on the digits with 16
   and with 256 samples per step. The large batches settle in a sharper minimum: the top
   eigenvalue of the loss's Hessian there (its steepest curvature) is larger. Their surfaces,
   side by side: <logdir>/batch_sizes.png. Epsilon-sharpness, the largest loss rise within
   0.1% of every weight, also counts the slope where training stopped (small batches stop on a
   noisier one), so here it can say otherwise; and on data this small the two validation
   accuracies are close, either may win.
2. A learning-rate schedule's path. SGD with momentum, its rate halved every epoch, keeping a
   checkpoint per epoch; `dlkit.landscape` draws the path on the plane that holds most of it
   (path.png in the run's landscape/ folder). The steps shrink as the rate decays, much faster
   than with a constant rate; halving every epoch is steep, though, and stops it short of the
   constant rate's loss.
3. Initialisation, diagnosed. A deep ReLU network started from zeros, Glorot and He
   (`dlkit.diagnose`): zeros leave every unit dead, alike and without a gradient; Glorot's
   outputs shrink layer after layer (its variance 1/fan_in is halved by each ReLU); He's
   (2/fan_in) keep their spread all the way down.

The same from the command line:  dlkit landscape RUN_DIR  and  dlkit diagnose SPEC.
"""

import os
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

import dlkit

EPOCHS = int(os.environ.get("DLKIT_EXAMPLE_EPOCHS", "12"))
STEPS_PER_EPOCH = 45  # 1438 training digits in batches of 32


def digits_spec(name: str, *, batch_size: int, optimizer: dict, epochs: int = EPOCHS,
                keep_path: bool = False) -> dict:
    """A digits MLP; ``keep_path`` keeps a checkpoint per epoch for the landscape's path."""
    callbacks = {"backup": False}
    if keep_path:
        callbacks["checkpoint"] = {"save_best_only": False, "save_weights_only": True}
    return {
        "name": name, "seed": 0, "data": {"source": "digits", "validation_split": 0.2},
        "model": {"input_shape": [64], "layers": [
            {"type": "Dense", "units": 64, "activation": "relu",
             "kernel_initializer": "he_normal"},
            {"type": "Dense", "units": 10, "activation": "softmax"}]},
        "compile": {"optimizer": optimizer, "loss": "sparse_categorical_crossentropy",
                    "metrics": ["accuracy"]},
        "train": {"epochs": epochs, "batch_size": batch_size},
        "callbacks": callbacks,
    }


def batch_sizes(logdir: str) -> dict:
    """Small vs large batches: training loss, top Hessian eigenvalue, epsilon-sharpness."""
    adam = {"type": "Adam", "learning_rate": 0.01}
    results, surfaces = {}, {}
    for label, batch in (("small", 16), ("large", 256)):
        run = dlkit.train(digits_spec(f"batch-{batch}", batch_size=batch, optimizer=adam),
                          logdir=logdir, verbose=0)
        land = dlkit.landscape(run, grid=21, verbose=0)
        surfaces[f"batch size {batch}"] = np.load(Path(land["out_dir"]) / "surface.npz")
        results[label] = {"batch_size": batch, "loss": land["loss"],
                          "val_accuracy": run.history["val_accuracy"][-1],
                          "hessian_top_eigenvalue": land["hessian_top_eigenvalue"],
                          "epsilon_sharpness": land["epsilon_sharpness"]}
    side_by_side(surfaces, Path(logdir) / "batch_sizes.png")
    return results


def side_by_side(surfaces: dict, path: Path) -> None:
    """Contours of several surfaces on the same loss levels, next to one another."""
    top = min(float(np.max(s["loss"])) for s in surfaces.values())
    low = min(float(np.min(s["loss"])) for s in surfaces.values())
    levels = np.linspace(low, top, 25)
    figure = Figure(figsize=(5 * len(surfaces), 4.5))
    for i, (title, surface) in enumerate(surfaces.items(), start=1):
        axes = figure.add_subplot(1, len(surfaces), i)
        lines = axes.contour(surface["alpha"], surface["beta"], surface["loss"].T, levels=levels)
        axes.plot([0], [0], "r*", markersize=10)
        axes.set_title(title)
        axes.set_aspect("equal")
    figure.colorbar(lines, ax=figure.axes, label="training loss")
    figure.savefig(path)


def schedule_path(logdir: str) -> dict:
    """The path of SGD with momentum under a halving rate, beside a constant rate's."""
    results = {}
    for label, rate in (("constant", 0.05), ("schedule", {
            "type": "ExponentialDecay", "initial_learning_rate": 0.05,
            "decay_steps": STEPS_PER_EPOCH, "decay_rate": 0.5, "staircase": True})):
        spec = digits_spec(f"path-{label}", batch_size=32, keep_path=True,
                           optimizer={"type": "SGD", "momentum": 0.9, "learning_rate": rate})
        run = dlkit.train(spec, logdir=logdir, verbose=0)
        land = dlkit.landscape(run, grid=21, verbose=0)
        path = np.load(Path(land["out_dir"]) / "path.npz")
        steps = np.hypot(np.diff(path["path_alpha"]), np.diff(path["path_beta"]))
        results[label] = {"picture": str(Path(land["out_dir"]) / "path.png"),
                          "first_step": float(steps[0]), "last_step": float(steps[-1]),
                          "explained": float(path["explained"].sum()),
                          "loss_start": land["path"]["loss_start"],
                          "loss_end": land["path"]["loss_end"]}
    return results


def deep_relu_spec(initializer: str) -> dict:
    hidden = [{"type": "Dense", "units": 64, "activation": "relu",
               "kernel_initializer": initializer} for _ in range(6)]
    return {"name": f"deep-{initializer}", "seed": 0,
            "data": {"source": "digits", "validation_split": 0.2},
            "model": {"input_shape": [64], "layers": [
                *hidden, {"type": "Dense", "units": 10, "activation": "softmax"}]},
            "compile": {"optimizer": {"type": "SGD", "learning_rate": 0.01},
                        "loss": "sparse_categorical_crossentropy"},
            "train": {"epochs": 1, "batch_size": 32}}


def initializers(logdir: str) -> dict:
    """Per initializer: the hidden layers' dead share, output spread and gradient at init."""
    import warnings

    results = {}
    for initializer in ("zeros", "glorot_uniform", "he_normal"):
        with warnings.catch_warnings():  # dlkit warns about zeros as it reads the spec
            warnings.simplefilter("ignore", dlkit.InitializationWarning)
            diagnosis = dlkit.diagnose(deep_relu_spec(initializer), steps=20, logdir=logdir)
        hidden = [layer["at_init"] for layer in diagnosis["layers"][:-1]]
        results[initializer] = {
            "dead": [h["dead_fraction"] for h in hidden],
            "spread": [h["activation_std"] for h in hidden],
            "gradient": [h["gradient_norm"] for h in hidden],
            "warnings": sorted({w["kind"] for w in diagnosis["warnings"]}),
        }
    return results


def run(logdir: str = "logs/landscapes") -> dict:
    return {"batch_sizes": batch_sizes(logdir), "schedule_path": schedule_path(logdir),
            "initializers": initializers(logdir)}


if __name__ == "__main__":
    result = run()
    print("1. small vs large batches (the large batch's minimum is sharper):")
    for label, r in result["batch_sizes"].items():
        print(f"   batch {r['batch_size']:>3}: training loss {r['loss']:.3f}, validation accuracy "
              f"{r['val_accuracy']:.3f}, top Hessian eigenvalue "
              f"{r['hessian_top_eigenvalue']:.2f}, epsilon-sharpness "
              f"{r['epsilon_sharpness']:.2f}")
    print("   surfaces side by side: logs/landscapes/batch_sizes.png")
    print("2. the path of a learning-rate schedule (steps shrink as the rate decays):")
    for label, r in result["schedule_path"].items():
        print(f"   {label:>8}: first step {r['first_step']:.3f}, last step {r['last_step']:.4f}; "
              f"loss {r['loss_start']:.2f} -> {r['loss_end']:.3f}; the plane holds "
              f"{r['explained']:.0%} of the path; {r['picture']}")
    print("3. initialisation of a 6-layer ReLU network (hidden layers, first to last):")
    for name, r in result["initializers"].items():
        spread = " ".join(f"{s:.3f}" for s in r["spread"])
        print(f"   {name:>14}: output spread {spread}; first layer's gradient "
              f"{r['gradient'][0]:.3g}; dead {max(r['dead']):.0%} at most; warnings "
              f"{', '.join(r['warnings']) or 'none'}")

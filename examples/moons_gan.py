"""A GAN learns to draw the two moons: generated points plotted over the data as it trains.

Run:  python examples/moons_gan.py

`examples/moons_gan.yaml` trains a generator (2 random numbers in, a point out) against a
discriminator (a point in, real or generated out) on 2,000 points of scikit-learn's two moons.
A callback passed to `dlkit.train` keeps what the generator makes of the same 500 latent vectors
every few epochs; ``moons_gan.png`` plots them over the data, one panel per snapshot, and the
trained generator's `dlkit.sample` last. How well the points match the moons is measured both
ways, before and after training: the mean distance from a generated point to the nearest real
one (are the points on the moons?) and from a real point to the nearest generated one (do they
cover both moons?). The data's own points lie about 0.01 apart.
"""

import os
from pathlib import Path

import keras
import numpy as np

import dlkit

EPOCHS = int(os.environ.get("DLKIT_EXAMPLE_EPOCHS", "100"))
SPEC = Path(__file__).with_name("moons_gan.yaml")


class Snapshots(keras.callbacks.Callback):
    """What the generator makes of fixed latent vectors at the start and every `every`
    epochs: ``points[epoch]``."""

    def __init__(self, every: int, latent: np.ndarray) -> None:
        super().__init__()
        self.every, self.latent, self.points = every, latent, {}

    def on_train_begin(self, logs=None):
        self.points[0] = np.asarray(self.model.generator(self.latent))

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every == 0:
            self.points[epoch + 1] = np.asarray(self.model.generator(self.latent))


def nearest_distance(points: np.ndarray, data: np.ndarray) -> float:
    """The mean distance from each point to the nearest point of `data`."""
    from sklearn.neighbors import NearestNeighbors

    return float(NearestNeighbors(n_neighbors=1).fit(data).kneighbors(points)[0].mean())


def plot(data: np.ndarray, points: dict, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, len(points), figsize=(3 * len(points), 3.2), sharex=True,
                                sharey=True, squeeze=False)
    for axis, (title, generated) in zip(axes[0], points.items()):
        axis.scatter(data[:, 0], data[:, 1], s=2, c="lightgray", label="data")
        axis.scatter(generated[:, 0], generated[:, 1], s=3, c="tab:red", label="generated")
        axis.set_title(title, fontsize=9)
    axes[0][0].legend(fontsize=7, loc="lower left")
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


def run(logdir: str = "logs", picture: str = "moons_gan.png") -> dict:
    from sklearn.datasets import make_moons

    spec = dlkit.load_spec(SPEC, overrides=[f"train.epochs={EPOCHS}"])
    data, _ = make_moons(2000, noise=0.05, random_state=spec["seed"])  # what the spec loads
    latent = np.random.default_rng(0).standard_normal(
        (500, spec["model"]["latent_dim"])).astype("float32")
    snapshots = Snapshots(max(1, EPOCHS // 4), latent)
    trained = dlkit.train(spec, logdir=logdir, callbacks=[snapshots], verbose=0)
    generated = dlkit.sample(trained, 500, seed=0)
    panels = {f"epoch {epoch}": points for epoch, points in snapshots.points.items()}
    panels[f"dlkit.sample (best epoch {trained.best['epoch']})"] = generated
    plot(data, panels, picture)
    return {"log_dir": str(trained.log_dir), "epochs": len(trained.history["d_loss"]),
            "on_moons_untrained": nearest_distance(snapshots.points[0], data),
            "on_moons_trained": nearest_distance(generated, data),
            "coverage_untrained": nearest_distance(data, snapshots.points[0]),
            "coverage_trained": nearest_distance(data, generated),
            "snapshots": sorted(snapshots.points), "history": trained.history}


if __name__ == "__main__":
    found = run()
    print(f"run directory: {found['log_dir']} ({found['epochs']} epochs)")
    print(f"mean distance from a generated point to the nearest real one: "
          f"{found['on_moons_untrained']:.3f} untrained, {found['on_moons_trained']:.3f} trained")
    print(f"mean distance from a real point to the nearest generated one: "
          f"{found['coverage_untrained']:.3f} untrained, {found['coverage_trained']:.3f} trained "
          "(moons_gan.png)")

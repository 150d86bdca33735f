"""Anomaly detection and clustering without labels: an autoencoder on the 8x8 digits.

Run:  python examples/digits_autoencoder.py

`examples/digits_autoencoder.yaml` is trained on 1,497 digits (their labels unused); 300 more
are held out. Each sample's anomaly score is its reconstruction error. Held-out digits score
low; pictures that are not digits score high: uniform noise, and digits whose pixels were
shuffled (the same ink, no strokes). The script prints how well the score tells them apart
(ROC AUC: 1.0 perfect, 0.5 chance) and how many the run's threshold flags, and writes
``anomaly_scores.png``: the three histograms, the threshold drawn.

Then the encoder alone (``encoder.keras``) turns every digit into 8 numbers, and k-means
(scikit-learn) groups them into 10 clusters, without any label. The cluster purity (the share
of digits whose cluster's most common digit is their own) is compared with k-means on the 64
raw pixels.
"""

import json
import os
from pathlib import Path

import numpy as np

import dlkit

EPOCHS = int(os.environ.get("DLKIT_EXAMPLE_EPOCHS", "40"))
SPEC = Path(__file__).with_name("digits_autoencoder.yaml")
HELD_OUT = 300


def digits_and_outliers(seed: int = 0) -> dict[str, np.ndarray]:
    """Training digits, held-out digits, uniform noise and pixel-shuffled held-out digits
    (flattened to 64 values in [0, 1]), and every digit's label (for the purity only)."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = (digits.data / 16.0).astype("float32")
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(x))
    train, test = x[order[:-HELD_OUT]], x[order[-HELD_OUT:]]
    return {"train": train, "digits": test,
            "noise": rng.uniform(0, 1, test.shape).astype("float32"),
            "shuffled": np.array([rng.permutation(sample) for sample in test]),
            "all": x, "labels": digits.target}


def purity(clusters: np.ndarray, labels: np.ndarray) -> float:
    """The share of samples whose cluster's most common label is their own."""
    return sum(np.bincount(labels[clusters == c]).max() for c in np.unique(clusters)) / len(labels)


def histogram(scores: dict[str, np.ndarray], threshold: float, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4))
    bins = np.linspace(0, max(float(s.max()) for s in scores.values()) * 1.02, 50)
    for label, values in scores.items():
        axes.hist(values, bins=bins, alpha=0.6, label=label)
    axes.axvline(threshold, color="red", linestyle="--", label=f"threshold {threshold:.3f}")
    axes.set(xlabel="anomaly score (reconstruction error, mse)", ylabel="samples",
             title="digits-autoencoder: held-out digits and outliers")
    axes.legend()
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


def run(logdir: str = "logs", picture: str = "anomaly_scores.png") -> dict:
    from sklearn.cluster import KMeans
    from sklearn.metrics import roc_auc_score

    data = digits_and_outliers()
    spec = dlkit.load_spec(SPEC, overrides=[f"train.epochs={EPOCHS}"])
    trained = dlkit.train(spec, data=data["train"], logdir=logdir, verbose=0)
    scores = {name: dlkit.anomaly_scores(trained, data[name])
              for name in ("digits", "noise", "shuffled")}
    threshold = json.loads((trained.log_dir / "anomaly.json").read_text())["threshold"]
    histogram(scores, threshold, picture)
    result = {"log_dir": str(trained.log_dir), "threshold": threshold}
    for outlier in ("noise", "shuffled"):
        truth = np.r_[np.zeros(HELD_OUT), np.ones(HELD_OUT)]
        result[f"auc_{outlier}"] = float(roc_auc_score(truth, np.r_[scores["digits"],
                                                                    scores[outlier]]))
    result.update({f"flagged_{name}": float(np.mean(s > threshold)) for name, s in scores.items()})
    encoder = dlkit.load_model(trained.log_dir / "encoder.keras", compile=False)
    codes = encoder.predict(data["all"], verbose=0)
    for name, features in (("purity", codes), ("purity_pixels", data["all"])):
        clusters = KMeans(10, n_init=10, random_state=0).fit_predict(features)
        result[name] = float(purity(clusters, data["labels"]))
    return result


if __name__ == "__main__":
    found = run()
    print(f"run directory: {found['log_dir']}")
    print(f"ROC AUC, held-out digits against uniform noise: {found['auc_noise']:.3f}, against "
          f"shuffled pixels: {found['auc_shuffled']:.3f}")
    print(f"flagged above the threshold {found['threshold']:.4f}: held-out digits "
          f"{found['flagged_digits']:.1%}, noise {found['flagged_noise']:.1%}, shuffled "
          f"{found['flagged_shuffled']:.1%} (histogram: anomaly_scores.png)")
    print(f"k-means purity on the 8-number codes: {found['purity']:.2f}; on the 64 raw pixels: "
          f"{found['purity_pixels']:.2f}")

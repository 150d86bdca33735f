"""Autoencoders trained on unlabeled digits: anomaly scores with known answers (held-out
digits against noise and shuffled pixels), the threshold in anomaly.json, the encoder and
decoder files, `dlkit score`, and the data rules of a model that learns from x alone."""

import csv
import json

import numpy as np
import pytest
import yaml

import dlkit
from conftest import EXAMPLES, cli
from dlkit._data.arrays import held_out, take
from dlkit._plan.kindplans import AnomalyPlan
from dlkit._train.anomaly import choose_threshold

HELD_OUT = 300


@pytest.fixture(scope="session")
def digits() -> dict:
    """Training digits, 300 held-out digits, and two kinds of outliers as big: uniform noise,
    and the held-out digits with their pixels shuffled (the same ink, no strokes)."""
    from sklearn.datasets import load_digits

    x = (load_digits().data / 16.0).astype("float32")
    rng = np.random.default_rng(0)
    order = rng.permutation(len(x))
    test = x[order[-HELD_OUT:]]
    return {"train": x[order[:-HELD_OUT]], "digits": test,
            "noise": rng.uniform(0, 1, test.shape).astype("float32"),
            "shuffled": np.array([rng.permutation(sample) for sample in test])}


@pytest.fixture(scope="session")
def autoencoder_run(tmp_path_factory, digits):
    """The example autoencoder trained for 12 epochs on the training digits alone (x, no y)."""
    spec = dlkit.load_spec(EXAMPLES / "digits_autoencoder.yaml", overrides=["train.epochs=12"])
    root = tmp_path_factory.mktemp("autoencoder-logs")
    return dlkit.train(spec, data=digits["train"], logdir=root, verbose=0)


def test_the_score_separates_held_out_digits_from_noise_and_shuffled_pixels(autoencoder_run,
                                                                          digits):
    from sklearn.metrics import roc_auc_score

    scores = {name: dlkit.anomaly_scores(autoencoder_run, digits[name])
              for name in ("digits", "noise", "shuffled")}
    truth = np.r_[np.zeros(HELD_OUT), np.ones(HELD_OUT)]
    for outlier in ("noise", "shuffled"):
        assert roc_auc_score(truth, np.r_[scores["digits"], scores[outlier]]) > 0.98, outlier
    threshold = json.loads((autoencoder_run.log_dir / "anomaly.json").read_text())["threshold"]
    assert np.mean(scores["digits"] > threshold) < 0.05  # about 1% by the 0.99 quantile
    assert np.mean(scores["noise"] > threshold) > 0.95
    assert np.mean(scores["shuffled"] > threshold) > 0.95
    assert set(autoencoder_run.history) == {"loss", "val_loss"}


def test_the_threshold_is_the_quantile_of_the_validation_scores(autoencoder_run, digits):
    run_dir = autoencoder_run.log_dir
    report = json.loads((run_dir / "anomaly.json").read_text())
    # The validation digits, held out as every run holds them out (seeded by the spec's seed).
    _, validation = held_out(len(digits["train"]), 0.2, 7)
    scores = dlkit.anomaly_scores(run_dir, take(digits["train"], validation))  # from files
    assert report["method"] == "quantile" and report["quantile"] == 0.99
    assert report["threshold"] == pytest.approx(np.quantile(scores, 0.99), rel=1e-4)
    distribution = report["validation"]
    assert distribution["samples"] == len(scores) == sum(distribution["histogram"]["counts"])
    assert distribution["flagged"] == int(np.sum(scores > report["threshold"]))
    assert distribution["quantiles"]["0.5"] == pytest.approx(np.median(scores), rel=1e-4)
    assert (run_dir / "anomaly.png").stat().st_size > 1000
    events = b"".join(p.read_bytes() for p in run_dir.glob("events.out.tfevents.*"))
    assert b"dlkit/anomaly_scores" in events and b"dlkit/anomaly" in events


def test_the_encoder_and_decoder_files_load_alone_and_compose_to_the_model(autoencoder_run,
                                                                           digits):
    run_dir = autoencoder_run.log_dir
    encoder = dlkit.load_model(run_dir / "encoder.keras", compile=False)
    decoder = dlkit.load_model(run_dir / "decoder.keras", compile=False)
    model = dlkit.load_model(run_dir / "model.keras")
    x = digits["digits"][:32]
    codes = np.asarray(encoder(x))
    assert codes.shape == (32, 8)
    np.testing.assert_allclose(decoder(codes), model(x), atol=1e-5)


def test_threshold_methods():
    scores = np.arange(101, dtype="float64")
    assert choose_threshold(scores, AnomalyPlan("mse", "quantile", 0.9)) == pytest.approx(90)
    assert choose_threshold(scores, AnomalyPlan("mse", "mean_std", 2.0)) == pytest.approx(
        50 + 2 * np.std(scores))


def test_an_npz_of_samples_alone_trains_and_validation_is_required(tmp_path, digits):
    path = tmp_path / "unlabeled.npz"
    np.savez(path, x=digits["train"][:400], x_val=digits["digits"][:100])
    spec = yaml.safe_load((EXAMPLES / "digits_autoencoder.yaml").read_text())
    spec["data"] = {"source": "npz", "path": str(path)}
    spec["train"] = {"epochs": 1}
    run = dlkit.train(spec, logdir=tmp_path / "logs", verbose=0)
    assert json.loads((run.log_dir / "anomaly.json").read_text())["validation"]["samples"] == 100
    assert "note" not in json.loads((run.log_dir / "run.json").read_text())  # no labels
    spec["data"] = {"source": "digits", "validation_split": None}
    with pytest.raises(dlkit.DataError, match="data.validation_split: an autoencoder chooses "
                       "its anomaly threshold on validation samples"):
        dlkit.train(spec, logdir=tmp_path / "none", verbose=0)
    assert not (tmp_path / "none").exists()  # nothing written


def test_train_notes_unused_labels_and_score_writes_scores_and_flags(tmp_path, digits):
    spec = tmp_path / "ae.yaml"
    spec.write_text((EXAMPLES / "digits_autoencoder.yaml").read_text())
    trained = cli("train", str(spec), "--set", "train.epochs=4", "--logdir", str(tmp_path))
    assert trained.returncode == 0, trained.stderr
    assert "dlkit: note: the data's labels (y) are not used: an autoencoder learns from the " \
        "samples (x) alone" in trained.stdout
    [run_dir] = (tmp_path / "digits-autoencoder").iterdir()
    assert json.loads((run_dir / "run.json").read_text())["note"].startswith("the data's labels")

    samples = np.concatenate([digits["digits"][:20], digits["noise"][:10]]).reshape(30, 8, 8)
    np.savez(tmp_path / "new.npz", x=samples)  # 8x8 pictures: reshaped to the model's [64]
    scored = cli("score", str(run_dir), str(tmp_path / "new.npz"), "--quiet")
    assert scored.returncode == 0, scored.stderr
    with (run_dir / "scores" / "new.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["score", "anomaly"] and len(rows) == 30
    assert all(row["anomaly"] == "1" for row in rows[20:])  # every noise picture flagged
    expected = dlkit.anomaly_scores(run_dir, samples)
    np.testing.assert_allclose([float(row["score"]) for row in rows], expected, rtol=1e-5)
    flagged = sum(row["anomaly"] == "1" for row in rows)
    assert f"scored 30 samples: {flagged} anomalies" in scored.stdout

    with pytest.raises(dlkit.RunDirError, match="has no anomaly.json: only a finished "
                       "autoencoder run"):  # the CLI's exit 2, as for every RunDirError
        dlkit.anomaly_scores(tmp_path, samples)


def test_a_vae_reports_its_kl_term_apart_and_scores_anomalies(tmp_path, digits):
    from sklearn.metrics import roc_auc_score
    from tensorboard.backend.event_processing.plugin_event_accumulator import EventAccumulator

    spec = {"name": "digits-vae", "seed": 1,
            "model": {"kind": "vae", "input_shape": [64], "latent_dim": 4,
                      "encoder": [{"type": "Dense", "units": 64, "activation": "relu"}],
                      "decoder": [{"type": "Dense", "units": 64, "activation": "relu"},
                                  {"type": "Dense", "units": 64, "activation": "sigmoid"}]},
            "compile": {"loss": "binary_crossentropy",
                        "optimizer": {"type": "Adam", "learning_rate": 3.0e-3}},
            "train": {"epochs": 8, "batch_size": 32}}
    run = dlkit.train(spec, data=digits["train"], logdir=tmp_path, verbose=0)
    history = run.history
    assert set(history) == {"loss", "reconstruction_loss", "kl_loss", "val_loss",
                            "val_reconstruction_loss", "val_kl_loss"}
    for prefix in ("", "val_"):  # the loss is the negative ELBO: reconstruction + KL
        np.testing.assert_allclose(history[f"{prefix}loss"], np.add(
            history[f"{prefix}reconstruction_loss"], history[f"{prefix}kl_loss"]), rtol=1e-4)
    assert min(history["kl_loss"]) > 0
    accumulator = EventAccumulator(str(run.log_dir / "train"), size_guidance={"tensors": 0})
    accumulator.Reload()
    assert {"epoch_kl_loss", "epoch_reconstruction_loss"} <= set(accumulator.Tags()["tensors"])

    scores = [dlkit.anomaly_scores(run.log_dir, digits[name]) for name in ("digits", "noise")]
    assert roc_auc_score(np.r_[np.zeros(HELD_OUT), np.ones(HELD_OUT)], np.concatenate(scores)) \
        > 0.98
    encoder = dlkit.load_model(run.log_dir / "encoder.keras", compile=False)
    assert [tuple(t.shape) for t in encoder.outputs] == [(None, 4), (None, 4)]  # mean, log var
    model = dlkit.load_model(run.log_dir / "model.keras")
    np.testing.assert_allclose(model(digits["digits"][:8]), run.model(digits["digits"][:8]),
                               atol=1e-6)

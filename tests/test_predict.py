"""`dlkit predict` and `dlkit.predict`: new data in batches, a predictions table with class
names, clear errors for input that does not fit, and nothing written then."""

import csv
import json
import shutil

import keras
import numpy as np
import pytest
from sklearn.datasets import load_digits

import dlkit
from conftest import cli
from dlkit._deploy.readers.npz import NpzReader
from dlkit._deploy.trained import ModelInput


@pytest.fixture(scope="module")
def digits():
    data = load_digits()
    return (data.images[..., None] / 16.0).astype("float32"), data.target


@pytest.fixture(scope="module")
def model(cnn_run):
    return keras.saving.load_model(cnn_run / "model.keras")


def read_table(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_predict_gives_what_the_model_gives_in_batches(cnn_run, model, digits):
    x, _ = digits
    got = dlkit.predict(cnn_run, x[:300].reshape(300, 64), batch_size=64)  # 64 values fit 8x8x1
    np.testing.assert_allclose(got, model.predict(x[:300], verbose=0), atol=1e-6)


def test_predictions_csv_from_npz_has_class_names_and_probabilities(cnn_run, model, digits,
                                                                     tmp_path):
    x, _ = digits
    run_dir = tmp_path / "run"
    shutil.copytree(cnn_run, run_dir, ignore=shutil.ignore_patterns("export"))
    names = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    status = json.loads((run_dir / "run.json").read_text())
    (run_dir / "run.json").write_text(json.dumps({**status, "classes": names}))
    np.savez(tmp_path / "new.npz", x=x[:100])
    out = dlkit.predict_file(run_dir, tmp_path / "new.npz", batch_size=32, verbose=0)
    assert out == run_dir / "predictions" / "new.csv"
    rows = read_table(out)
    assert list(rows[0]) == ["prediction", *(f"p_{n}" for n in names)]
    probabilities = model.predict(x[:100], verbose=0)
    assert [r["prediction"] for r in rows] == [names[i] for i in probabilities.argmax(1)]
    table = np.array([[float(r[f"p_{n}"]) for n in names] for r in rows])
    np.testing.assert_allclose(table, probabilities, atol=1e-5)


def test_without_recorded_names_classes_are_indices(cnn_run, digits, tmp_path):
    x, _ = digits
    np.savez(tmp_path / "few.npz", x=x[:5])
    rows = read_table(dlkit.predict_file(cnn_run, tmp_path / "few.npz", out=tmp_path / "p.csv",
                                         verbose=0))
    assert list(rows[0])[:3] == ["prediction", "p_0", "p_1"]
    assert all(r["prediction"] in [str(i) for i in range(10)] for r in rows)


def test_npz_rows_are_streamed_in_batches_as_saved(tmp_path):
    rng = np.random.default_rng(0)
    for order in ("C", "F"):
        x = np.asarray(rng.normal(size=(50, 4, 2)), order=order)
        np.savez_compressed(tmp_path / "x.npz", x=x)
        reader = NpzReader(tmp_path / "x.npz", [ModelInput("x", (4, 2), "float32")])
        batches = [b.inputs["x"] for b in reader.batches(7)]
        assert [len(b) for b in batches] == [7] * 7 + [1]
        np.testing.assert_array_equal(np.concatenate(batches), x.astype("float32"))


def test_input_that_does_not_fit_is_a_clear_error_and_nothing_is_written(cnn_run, tmp_path):
    np.savez(tmp_path / "wide.npz", x=np.zeros((4, 65), "float32"))
    result = cli("predict", str(cnn_run), str(tmp_path / "wide.npz"), "--out",
                 str(tmp_path / "out.csv"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "takes samples of shape [8, 8, 1] (64 values); received samples of shape [65]" in \
        result.stderr
    assert not (tmp_path / "out.csv").exists() and not (cnn_run / "predictions" /
                                                         "wide.csv").exists()
    np.savez(tmp_path / "named.npz", features=np.zeros((4, 64)))
    with pytest.raises(dlkit.DataError, match="lacks array.s. x or x_"):
        dlkit.predict(cnn_run, tmp_path / "named.npz")
    with pytest.raises(dlkit.DataError, match="input .* takes numbers; received <U1 values"):
        dlkit.predict(cnn_run, np.array([["a"] * 64]))


def test_cli_predict_writes_the_default_file(cnn_run, digits, tmp_path):
    x, _ = digits
    np.savez(tmp_path / "batch7.npz", x=x[:40])
    run_dir = tmp_path / "run"
    shutil.copytree(cnn_run, run_dir, ignore=shutil.ignore_patterns("export"))
    result = cli("predict", str(run_dir), str(tmp_path / "batch7.npz"), "--batch-size", "16")
    assert result.returncode == 0, result.stderr
    out = run_dir / "predictions" / "batch7.csv"
    assert f"predictions: {out}" in result.stdout
    assert "predict: 40 samples in" in result.stderr  # piped: one line, no escape codes
    assert "\r" not in result.stderr and "\x1b" not in result.stderr
    assert len(read_table(out)) == 40


def test_images_in_a_folder_predict_as_their_pixels(cnn_run, digits, tmp_path):
    x, _ = digits
    pixels = np.round(x[:6] * 255).astype("uint8")
    for i, image in enumerate(pixels):
        (tmp_path / "images" / f"class{i % 2}").mkdir(parents=True, exist_ok=True)
        keras.utils.save_img(tmp_path / "images" / f"class{i % 2}" / f"{i}.png", image,
                             scale=False)
    got = dlkit.predict(cnn_run, tmp_path / "images")
    order = [0, 2, 4, 1, 3, 5]  # sorted paths: class0/0, class0/2, ..., class1/5
    np.testing.assert_allclose(got, dlkit.predict(cnn_run, pixels[order].astype("float32")),
                               atol=1e-6)
    rows = read_table(dlkit.predict_file(cnn_run, tmp_path / "images", out=tmp_path / "i.csv",
                                         verbose=0))
    assert [r["file"] for r in rows] == [f"class{i % 2}/{i}.png" for i in order]


def test_csv_rows_and_text_files_that_do_not_fit_name_what_the_model_takes(cnn_run, tmp_path):
    (tmp_path / "rows.csv").write_text("a,b\n1,2\n")
    with pytest.raises(dlkit.DataError, match=r"takes samples of shape \[8, 8, 1\] \(64 values\)"
                                              r"; received samples of shape \[2\]"):
        dlkit.predict(cnn_run, tmp_path / "rows.csv")
    (tmp_path / "note.txt").write_text("hello")
    with pytest.raises(dlkit.DataError, match="text files feed a model whose one input takes "
                                              "strings"):
        dlkit.predict(cnn_run, tmp_path / "note.txt")


def test_csv_rows_predict_as_their_numbers(cnn_run, digits, tmp_path):
    x, _ = digits
    flat = x[:20].reshape(20, 64)
    header = ",".join(f"pixel{i}" for i in range(64))
    lines = [header, *(",".join(f"{v:.6f}" for v in row) for row in flat)]
    (tmp_path / "rows.csv").write_text("\n".join(lines) + "\n")
    np.testing.assert_allclose(dlkit.predict(cnn_run, tmp_path / "rows.csv", batch_size=8),
                               dlkit.predict(cnn_run, np.round(flat, 6)), atol=1e-6)
    (tmp_path / "bad.csv").write_text("\n".join([header, lines[1], lines[2].replace(
        lines[2].split(",")[3], "n/a", 1)]) + "\n")
    with pytest.raises(dlkit.DataError, match="bad.csv line 3: column 'pixel3' holds 'n/a'"):
        dlkit.predict_file(cnn_run, tmp_path / "bad.csv", out=tmp_path / "bad-out.csv")
    assert not (tmp_path / "bad-out.csv").exists()

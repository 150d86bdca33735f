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


# --- raw data as each data source reads it -----------------------------------------------------

def raw_columns(path):
    """A passengers CSV as the model's raw inputs, read here by hand: numbers (blank: NaN) and
    text (stripped) per column, the target left out; keys are the model's input names."""
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    numbers = ("age", "fare", "class", "siblings")
    return {name: np.array([[float(r[name]) if r[name].strip() else np.nan] for r in rows],
                           "float32") if name in numbers else
            np.array([[r[name].strip()] for r in rows]) for name in rows[0] if name != "survived"}


def test_raw_table_rows_predict_through_the_models_own_encoding(table_run, tmp_path):
    import tensorflow as tf

    run_dir, rows = table_run["run"], table_run["csv"]
    raw = raw_columns(rows)
    assert np.isnan(raw["age"]).any() and (raw["sex"] == "").any()  # blanks are in there
    model = dlkit.load_model(run_dir / "model.keras")
    expected = model({k: tf.constant(v) for k, v in raw.items()}, training=False).numpy()
    table = read_table(dlkit.predict_file(run_dir, rows, out=tmp_path / "p.csv", batch_size=64,
                                          verbose=0))
    assert list(table[0]) == ["prediction", "p_no", "p_yes"]  # class names from run.json
    assert len(table) == 300
    got = np.array([[float(r["p_no"]), float(r["p_yes"])] for r in table])
    np.testing.assert_allclose(got, expected, atol=5e-3)  # eager and traced, in mixed precision
    assert [r["prediction"] for r in table] == [("no", "yes")[i] for i in got.argmax(1)]
    # the columns in another order, the target gone, an id column more: the same predictions
    with open(rows, newline="") as handle:
        cells = list(csv.DictReader(handle))
    order = ["id", "sex", "deck", "class", "siblings", "port", "fare", "age"]
    with open(tmp_path / "shuffled.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(order)
        writer.writerows([[i, *(r[c] for c in order[1:])] for i, r in enumerate(cells)])
    np.testing.assert_allclose(dlkit.predict(run_dir, tmp_path / "shuffled.csv"), got,
                               atol=1e-6)


def test_table_rows_that_do_not_fit_name_the_expected_columns(table_run, tmp_path):
    run_dir = table_run["run"]
    (tmp_path / "renamed.csv").write_text("Age,fare,sex,port,deck,siblings\n8,90,female,,1,0\n")
    with pytest.raises(dlkit.DataError) as caught:
        dlkit.predict_file(run_dir, tmp_path / "renamed.csv", out=tmp_path / "out.csv")
    assert "lacks column(s) age, class; it has 'Age' (did you mean 'age'?)" in str(caught.value)
    assert "trained on the columns age, class, deck, fare, port, sex, siblings, in any order " \
        "(others, such as the target 'survived', are ignored)" in str(caught.value)
    assert not (tmp_path / "out.csv").exists()
    (tmp_path / "text.csv").write_text("age,fare,sex,port,deck,class,siblings\n"
                                       "8,90,female,,1,1,0\nold,90,female,,1,1,0\n")
    with pytest.raises(dlkit.DataError, match="text.csv line 3: column 'age' holds 'old', not a "
                                              "number"):
        dlkit.predict_file(run_dir, tmp_path / "text.csv", out=tmp_path / "t.csv")
    assert not (tmp_path / "t.csv").exists() and not (run_dir / "predictions").exists()


def decoded(files, size, channels):
    """Image files decoded, converted and resized here with TensorFlow's own ops."""
    import tensorflow as tf

    return np.stack([tf.image.resize(tf.io.decode_png(f.read_bytes(), channels=channels), size,
                                     method="bilinear").numpy() for f in files])


def test_images_predict_as_the_images_source_read_them(images_run, tmp_path):
    run_dir, folder = images_run["run"], images_run["folder"]
    files = sorted(folder.rglob("*.png"))
    expected = dlkit.predict(run_dir, decoded(files, (10, 10), 1))  # RGB files, gray model
    table = read_table(dlkit.predict_file(run_dir, folder, out=tmp_path / "p.csv", verbose=0))
    assert list(table[0]) == ["file", "prediction", "p_bars", "p_blocks"]
    assert [r["file"] for r in table] == [f.relative_to(folder).as_posix() for f in files]
    got = np.array([[float(r["p_bars"]), float(r["p_blocks"])] for r in table])
    np.testing.assert_allclose(got, expected, atol=1e-5)
    flat = tmp_path / "flat"  # a folder without class sub-folders, and one file
    flat.mkdir()
    for f in files[:3]:
        shutil.copy(f, flat / f"{f.parent.name}-{f.name}")
    np.testing.assert_allclose(dlkit.predict(run_dir, flat), expected[[0, 1, 2]], atol=1e-5)
    rows = read_table(dlkit.predict_file(run_dir, files[-1], out=tmp_path / "one.csv",
                                         verbose=0))
    assert [r["file"] for r in rows] == [files[-1].name]


def test_images_that_cannot_be_read_as_the_model_takes_them_are_named(images_run, text_run,
                                                                     tmp_path):
    from PIL import Image

    (tmp_path / "in").mkdir()
    shutil.copy(min(images_run["folder"].rglob("*.png")), tmp_path / "in" / "a.png")
    Image.new("RGB", (10, 10)).save(tmp_path / "in" / "b.bmp")  # BMP decodes to 3 or 4 only
    with pytest.raises(dlkit.DataError) as caught:
        dlkit.predict_file(images_run["run"], tmp_path / "in", out=tmp_path / "out.csv")
    assert "b.bmp: cannot be read as a 10x10 grayscale image (1 channel)" in str(caught.value)
    assert "for BMP" in str(caught.value) and "Convert it to PNG" in str(caught.value)
    assert not (tmp_path / "out.csv").exists()
    with pytest.raises(dlkit.DataError, match=r"images feed a model whose one input is \[height, "
                                              r"width, channels\].*shape \[1\] of string"):
        dlkit.predict(text_run["run"], tmp_path / "in")


def test_text_files_predict_as_the_text_source_read_them(text_run, images_run, tmp_path):
    import tensorflow as tf

    run_dir, folder = text_run["run"], text_run["folder"]
    files = sorted(folder.rglob("*.txt"))
    model = dlkit.load_model(run_dir / "model.keras")
    texts = tf.constant([[f.read_bytes()] for f in files])
    expected = model(texts, training=False).numpy()
    table = read_table(dlkit.predict_file(run_dir, folder, out=tmp_path / "p.csv", verbose=0))
    assert list(table[0]) == ["file", "prediction", "p_food", "p_sport"]
    assert [r["file"] for r in table] == [f.relative_to(folder).as_posix() for f in files]
    got = np.array([[float(r["p_food"]), float(r["p_sport"])] for r in table])
    np.testing.assert_allclose(got, expected, atol=5e-3)  # eager and traced, mixed precision
    np.testing.assert_allclose(dlkit.predict(run_dir, files[4]), got[4:5], atol=1e-6)
    (tmp_path / "latin1.txt").write_bytes("caf\xe9 soup".encode("latin-1"))
    with pytest.raises(dlkit.DataError, match="latin1.txt: is not UTF-8 text"):
        dlkit.predict(run_dir, tmp_path / "latin1.txt")
    with pytest.raises(dlkit.DataError, match="text files feed a model whose one input takes "
                                              r"strings.*\[10, 10, 1\]"):
        dlkit.predict(images_run["run"], files[0])


def test_a_graph_model_predicts_each_output_from_named_arrays(heads_run, tmp_path):
    run_dir, data = heads_run["run"], heads_run["data"]
    x = {"image": data["x_image"][:50], "meta": data["x_meta"][:50]}
    model = dlkit.load_model(run_dir / "model.keras")
    expected = model.predict(x, verbose=0)
    got = dlkit.predict(run_dir, x, batch_size=16)
    assert set(got) == {"digit", "ink"}
    for name in got:
        np.testing.assert_allclose(got[name], expected[name], atol=1e-5)
    np.savez(tmp_path / "new.npz", x_image=x["image"], x_meta=x["meta"])
    table = read_table(dlkit.predict_file(run_dir, tmp_path / "new.npz", out=tmp_path / "p.csv",
                                          verbose=0))
    assert list(table[0]) == ["digit.prediction", *(f"digit.p_{i}" for i in range(10)),
                              "ink.prediction"]  # ink is a value: no classes, no p_ columns
    assert [int(r["digit.prediction"]) for r in table] == list(got["digit"].argmax(1))
    np.testing.assert_allclose([float(r["ink.prediction"]) for r in table], got["ink"][:, 0],
                               rtol=1e-5)
    np.savez(tmp_path / "half.npz", x_image=x["image"])
    with pytest.raises(dlkit.DataError, match=r"lacks array\(s\) x_meta; it holds x_image. The "
                                              r"model takes x_image: samples of shape \[8, 8, 1\] "
                                              r"\(64 values\); x_meta: samples of shape \[4\]"):
        dlkit.predict(run_dir, tmp_path / "half.npz")

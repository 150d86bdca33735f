"""``source: csv`` with text, categories and blank cells: encoded inside the model, which then
predicts on raw rows."""

import json

import numpy as np
import pytest
import tensorflow as tf

import dlkit
from dlkit._data.table import load_table

CITIES = ("paris", "lyon", "nice")


def write_table(path, rows=240, seed=0):
    """People: age (some blank), city (text, some blank), zip (numbers that are categories),
    income; the label depends on the city and the income."""
    rng = np.random.default_rng(seed)
    lines = ["age,city,zip,income,label"]
    for index in range(rows):
        city = CITIES[index % 3] if index % 11 else ""
        income = float(rng.normal(50, 10))
        age = "" if index % 7 == 0 else str(int(rng.integers(18, 80)))
        label = "rich" if income > (45 if city == "paris" else 55) else "poor"
        lines.append(f"{age},{city},{750 + index % 4},{income:.1f},{label}")
    path.write_text("\n".join(lines) + "\n")
    return path


def table_spec(path, width):
    return {
        "name": "people", "seed": 0,
        "data": {"source": "csv", "path": str(path), "target": "label",
                 "categorical": ["zip"]},
        "model": {"input_shape": [width], "layers": [
            {"type": "Dense", "units": 16, "activation": "relu"},
            {"type": "Dense", "units": 2, "activation": "softmax"}]},
        "compile": {"optimizer": {"type": "Adam", "learning_rate": 0.03},
                    "loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]},
        "train": {"epochs": 8, "batch_size": 32},
    }


def test_a_table_with_text_categories_and_blanks_trains_and_predicts_on_raw_rows(tmp_path,
                                                                                 log_root):
    path = write_table(tmp_path / "people.csv")
    with pytest.raises(dlkit.DataError, match=r"the table's columns encode to 11 features per "
                       r"row \(age: 1, city: 4, zip: 5, income: 1\) but model.input_shape is "
                       r"\[4\]; set it to \[11\]"):
        dlkit.train(table_spec(path, 4), verbose=0)
    assert not log_root.exists()
    run = dlkit.train(table_spec(path, 11), verbose=0)
    assert max(run.history["val_accuracy"]) > 0.8
    assert json.loads((run.log_dir / "run.json").read_text())["classes"] == ["poor", "rich"]
    model = dlkit.load_model(run.log_dir / "model.keras")
    rows = {"age": [[30.0], [float("nan")]], "city": [["paris"], [""]],
            "zip": [["751"], ["999"]], "income": [[50.0], [70.0]]}  # blanks, an unseen zip
    scores = model({name: tf.constant(value) for name, value in rows.items()})
    assert np.argmax(scores, axis=-1).tolist() == [1, 1]
    assert np.all(np.isfinite(scores))


def test_blank_numbers_become_the_training_mean_and_blank_text_no_category(tmp_path):
    path = write_table(tmp_path / "people.csv", rows=40)
    stream = load_table(path, {"target": "label", "categorical": ["zip"]})
    assert np.isnan(stream.x["age"][0, 0]) and stream.x["city"][0, 0] == ""
    assert stream.x["zip"].dtype.kind == "U" and stream.classes == ("poor", "rich")
    from dlkit._data.encoding import FillMissing

    fill = FillMissing()
    fill.adapt([np.array([[1.0], [np.nan]]), np.array([[3.0]])])
    assert fill.fill_value == 2.0
    assert fill(tf.constant([[np.nan], [5.0]])).numpy().ravel().tolist() == [2.0, 5.0]


def test_a_numeric_table_still_loads_as_arrays(tmp_path):
    path = tmp_path / "n.csv"
    path.write_text("a,b,label\n1,2,x\n3,4,y\n")
    arrays = load_table(path, {"target": "label"})
    np.testing.assert_array_equal(arrays.x, [[1, 2], [3, 4]])
    assert arrays.classes == ("x", "y")


@pytest.mark.parametrize("text, data, words", [
    ("a,b\n1,2\n", {"target": "label"}, r"data.target: no column 'label'"),
    ("a,b\n1,x\n2,3\n", {"target": "a"}, r"column 'b' changes type: line 3 holds the number "
     r"'3', line 2 the text 'x'.*list the column under data.categorical"),
    ("a,b\n1,\n2,\n", {"target": "a"}, r"column 'b' is blank in every row"),
    ("a,b\n1,2\n", {"target": "a", "categorical": ["c"]}, r"data.categorical: 'c' is not a "
     r"feature column"),
])
def test_table_mistakes_name_the_column_and_the_line(tmp_path, text, data, words):
    path = tmp_path / "t.csv"
    path.write_text(text)
    with pytest.raises(dlkit.DataError, match=words):
        load_table(path, data)


def test_regression_labels_that_do_not_fit_the_loss_are_refused(tmp_path, log_root):
    path = write_table(tmp_path / "people.csv", rows=40)
    spec = table_spec(path, 11)
    spec["data"]["target"] = "income"
    with pytest.raises(dlkit.DataError, match="sparse_categorical_crossentropy expects integer "
                       "class labels"):
        dlkit.train(spec, verbose=0)
    assert not log_root.exists()

"""Each data source, and data that does not fit the spec, caught before training."""

import numpy as np
import pytest

import dlkit
from dlkit._data import sources as _data


def load(data, input_shape, seed=0):
    return _data.load(data, input_shape=input_shape, seed=seed)


@pytest.mark.parametrize("shape", [[64], [8, 8], [8, 8, 1]])
def test_digits_fit_the_input_shape_and_are_scaled(shape):
    arrays = load({"source": "digits"}, shape)
    assert arrays.x.shape == (1797, *shape)
    assert arrays.x.dtype == np.float32
    assert arrays.x.min() == 0.0 and arrays.x.max() == 1.0
    assert sorted(np.unique(arrays.y)) == list(range(10))


def test_moons_and_spirals_are_seeded_two_class_problems():
    for source in ("moons", "spirals"):
        a = load({"source": source, "samples": 200, "noise": 0.1}, [2], seed=3)
        b = load({"source": source, "samples": 200, "noise": 0.1}, [2], seed=3)
        c = load({"source": source, "samples": 200, "noise": 0.1}, [2], seed=4)
        assert a.x.shape == (200, 2) and set(np.unique(a.y)) == {0, 1}
        np.testing.assert_array_equal(a.x, b.x)
        assert not np.array_equal(a.x, c.x)


def test_sine_sequences_and_their_shape_rule():
    arrays = load({"source": "sine", "samples": 50}, [12, 1])
    assert arrays.x.shape == (50, 12, 1) and arrays.y.shape == (50, 1)
    assert np.abs(arrays.y).max() <= 1.0
    with pytest.raises(dlkit.DataError, match=r"model.input_shape: the sine source gives "):
        load({"source": "sine"}, [12])


def test_npz_with_and_without_validation_arrays(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, x=np.ones((10, 3)), y=np.arange(10), x_val=np.ones((4, 3)), y_val=np.zeros(4))
    arrays = load({"source": "npz", "path": str(path)}, [3])
    assert arrays.x.shape == (10, 3) and arrays.x_val.shape == (4, 3)
    np.savez(path, x=np.ones((10, 3)), y=np.arange(10))
    assert load({"source": "npz", "path": str(path)}, [3]).x_val is None


@pytest.mark.parametrize("arrays, words", [
    ({"x": np.ones((3, 2))}, r"lacks array\(s\) y; it holds \['x'\]"),
    ({"features": np.ones(3), "labels": np.ones(3)}, r"lacks array\(s\) x, y"),
    ({"x": np.ones((3, 2)), "y": np.ones(3), "x_val": np.ones((1, 2))}, "only one of x_val"),
    ({"x": np.array([{"a": 1}], dtype=object), "y": np.ones(1)}, "not a readable .npz"),
])
def test_bad_npz_files(tmp_path, arrays, words):
    path = tmp_path / "d.npz"
    np.savez(path, **arrays)
    with pytest.raises(dlkit.DataError, match=words):
        load({"source": "npz", "path": str(path)}, [2])


def test_missing_and_corrupt_files(tmp_path):
    with pytest.raises(dlkit.DataError, match=r"data.path: no such file: .*nope.npz"):
        load({"source": "npz", "path": str(tmp_path / "nope.npz")}, [2])
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(dlkit.DataError, match="not a readable .npz"):
        load({"source": "npz", "path": str(tmp_path / "bad.npz")}, [2])


def test_csv_numeric_and_named_targets(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("a,b,label\n1,2,cat\n3,4,dog\n5,6,cat\n")
    arrays = load({"source": "csv", "path": str(path), "target": "label"}, [2])
    np.testing.assert_array_equal(arrays.x, [[1, 2], [3, 4], [5, 6]])
    np.testing.assert_array_equal(arrays.y, [0, 1, 0])
    path.write_text("price,rooms,size\n1.5,2,30\n2.5,3,40\n")
    arrays = load({"source": "csv", "path": str(path), "target": "price"}, [2])
    np.testing.assert_allclose(arrays.y, [1.5, 2.5])


@pytest.mark.parametrize("text, target, path, words", [
    ("a,b\n1,2\n", "label", "data.target", r"no column 'label' in .*columns are \['a', 'b'\]"),
    ("a,b\n1,2\n2,3\n3,x\n", "a", "data.path",
     "column 'b' changes type: line 2 holds the number '2', line 4 the text 'x'"),
    ("a,b\n1,2\n,3\n", "a", "data.target", "line 3: the target column 'a' is blank"),
    ("a,b,b\n1,2,3\n", "a", "data.path", r"names column\(s\) \['b'\] twice"),
    ("a,b\n1\n", "a", "data.path", "line 2 has 1 fields, the header has 2"),
    ("", "a", "data.path", "is empty"),
])
def test_bad_csv_files(tmp_path, text, target, path, words):
    file = tmp_path / "d.csv"
    file.write_text(text)
    with pytest.raises(dlkit.DataError, match=words) as info:
        load({"source": "csv", "path": str(file), "target": target}, [1])
    assert info.value.errors[0].path == path


def test_input_shape_mismatch_names_the_spec_path():
    with pytest.raises(dlkit.DataError) as info:
        load({"source": "digits"}, [28, 28, 1])
    [problem] = info.value.errors
    assert problem.path == "model.input_shape"
    assert "shape [8, 8], which does not fit model.input_shape [28, 28, 1]" in problem.message

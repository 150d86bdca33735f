"""Labels checked against the loss and the output layer, before any training starts."""

import numpy as np
import pytest

import dlkit
from dlkit._data.labels import fit_labels
from dlkit._plan.resolver import loss_name


def test_loss_names_are_canonical():
    import keras

    assert loss_name("mse") == loss_name(keras.losses.MeanSquaredError()) == "mean_squared_error"
    assert loss_name(keras.losses.Huber()) == "huber"
    assert loss_name("kld") == "kl_divergence"


def test_ten_classes_with_a_one_unit_sigmoid_are_refused():
    with pytest.raises(dlkit.DataError, match="y takes 10 distinct values but binary_crossentropy "
                       "expects 0/1 labels.*sparse_categorical_crossentropy"):
        fit_labels(np.arange(100) % 10, loss_name="binary_crossentropy", output_shape=(None, 1))


def test_sparse_labels_beyond_the_output_width():
    with pytest.raises(dlkit.DataError, match=r"class labels 0..9 \(10 classes\) but the output "
                       r"layer has 3 unit\(s\)") as info:
        fit_labels(np.arange(10), loss_name="sparse_categorical_crossentropy", output_shape=(None, 3))
    assert info.value.errors[0].path == "model.layers[-1]"


def test_categorical_losses_get_one_hot_labels():
    y = fit_labels(np.array([0, 2, 1]), loss_name="categorical_crossentropy", output_shape=(None, 3))
    np.testing.assert_array_equal(y, np.eye(3)[[0, 2, 1]])


def test_regression_targets_must_match_the_output_width():
    assert fit_labels(np.ones(5), loss_name="mean_squared_error", output_shape=(None, 1)).shape == (5, 1)
    with pytest.raises(dlkit.DataError, match=r"outputs shape \[3\] per sample but y has shape "
                       r"\[1\]"):
        fit_labels(np.ones(5), loss_name="mean_squared_error", output_shape=(None, 3))

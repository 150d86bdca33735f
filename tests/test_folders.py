"""``source: images`` and ``source: text``: folders of class sub-folders, read while training."""

import json
import warnings

import numpy as np
import pytest
import tensorflow as tf

import dlkit
from dlkit import BadFileWarning
from dlkit._data.folder_sources import load_folder
from dlkit._data.stream import batches
from dlkit._train.pictures import confusion_matrix_png

SHAPES = ("bar", "circle", "square")


def draw(shape, rng, size=16):
    """A bright shape on a dark, noisy background, as uint8 RGB."""
    grid = np.mgrid[:size, :size] - size / 2 + rng.uniform(-2, 2, (2, 1, 1))
    mask = {"bar": np.abs(grid[1]) < 2,
            "circle": np.hypot(*grid) < size / 3,
            "square": np.max(np.abs(grid), axis=0) < size / 4}[shape]
    image = rng.uniform(0, 60, (size, size, 3)) + mask[..., None] * 180
    return np.clip(image, 0, 255).astype("uint8")


def write_images(folder, per_class=24, seed=0):
    rng = np.random.default_rng(seed)
    for shape in SHAPES:
        (folder / shape).mkdir(parents=True)
        for index in range(per_class):
            png = tf.io.encode_png(draw(shape, rng)).numpy()
            (folder / shape / f"{index:03d}.png").write_bytes(png)
    return folder


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    return write_images(tmp_path_factory.mktemp("shapes") / "images")


def image_spec(path, **changes):
    spec = {
        "name": "shapes", "seed": 1,
        "data": {"source": "images", "path": str(path), "validation_split": 0.25},
        "model": {"input_shape": [16, 16, 3], "layers": [
            {"type": "Rescaling", "scale": 1 / 255},
            {"type": "RandomFlip", "mode": "horizontal"},
            {"type": "Conv2D", "filters": 4, "kernel_size": 3, "activation": "relu"},
            {"type": "GlobalMaxPooling2D"},
            {"type": "Dense", "units": 3, "activation": "softmax"}]},
        "compile": {"optimizer": {"type": "Adam", "learning_rate": 0.02},
                    "loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]},
        "train": {"epochs": 3, "batch_size": 16},
        "runtime": {"precision": "float32"},
    }
    spec.update(changes)
    return spec


def test_an_image_folder_trains_with_class_names_from_its_folders(images, log_root):
    spec = image_spec(images)
    spec["train"]["epochs"] = 6
    run = dlkit.train(spec, verbose=0)
    status = json.loads((run.log_dir / "run.json").read_text())
    assert status["classes"] == list(SHAPES)
    assert (run.log_dir / "confusion_matrix.png").is_file()
    assert max(run.history["val_accuracy"]) > 0.6  # chance is 1/3
    assert len(run.history["val_loss"]) == 6
    saved = dlkit.load_model(run.log_dir / "model.keras")
    assert saved.input_shape == (None, 16, 16, 3)


def test_the_confusion_matrix_names_the_classes():
    counts = np.array([[3, 1], [0, 4]])
    named = confusion_matrix_png(counts, "t", ("cats", "dogs"))
    assert named != confusion_matrix_png(counts, "t")


def test_images_take_the_size_and_channels_of_the_model_input(images):
    stream = load_folder({"source": "images", "path": str(images)}, input_shape=[8, 12, 1])
    assert stream.classes == SHAPES and stream.count == 72
    x, y = next(iter(batches(stream.x, stream.y, stream.read, batch_size=5, shuffle=False)))
    assert x.shape == (5, 8, 12, 1) and x.dtype == tf.float32
    assert float(tf.reduce_max(x)) > 150  # pixels stay in 0..255: the spec rescales them
    assert y.numpy().tolist() == [0] * 5
    with pytest.raises(dlkit.DataError, match=r"model.input_shape: the images source gives "):
        load_folder({"source": "images", "path": str(images)}, input_shape=[64])


def test_a_deterministic_image_run_resumed_after_a_crash_ends_as_an_uninterrupted_one(
        images, log_root):
    from test_resume import Interrupt

    spec = image_spec(images, deterministic=True, callbacks={"backup": {"min_interval": 0}})
    whole = dlkit.train(spec, verbose=0)
    spec["name"] = "shapes-resumed"
    with pytest.raises(KeyboardInterrupt):
        dlkit.train(spec, callbacks=[Interrupt(at_epoch=1)], verbose=0)
    resumed = dlkit.train(spec, resume=True, verbose=0)
    assert resumed.history["loss"] == whole.history["loss"]
    for a, b in zip(whole.model.get_weights(), resumed.model.get_weights()):
        np.testing.assert_array_equal(a, b)
    status = json.loads((resumed.log_dir / "run.json").read_text())
    assert status["classes"] == list(SHAPES) and status["status"] == "finished"


def test_epoch_orders_are_keyed_by_seed_and_epoch_and_workers_split_each_batch(images):
    stream = load_folder({"source": "images", "path": str(images)}, input_shape=[4, 4, 1])
    epoch = tf.Variable(0, dtype=tf.int64)

    def labels(**options):
        data = batches(stream.x, np.arange(stream.count), lambda path: path, batch_size=10,
                       shuffle=True, seed=5, epoch=epoch, **options)
        return [int(v) for _, y in data for v in y]

    first, again = labels(), labels()
    assert first == again and sorted(first) == list(range(72))
    epoch.assign(1)
    assert labels() != first
    halves = [labels(worker=(index, 2)) for index in (0, 1)]
    assert len(halves[0]) == len(halves[1]) == 40  # 8 steps of 5 each; the last filled up
    assert set(halves[0]).isdisjoint(halves[1][:35]) and set(halves[0]) | set(halves[1]) == \
        set(range(72))


def test_folder_mistakes_are_named_before_anything_is_written(tmp_path, log_root):
    def error(path, source="images"):
        with pytest.raises(dlkit.DataError) as info:
            dlkit.train(image_spec(path) | {"data": {"source": source, "path": str(path)}},
                        verbose=0)
        return str(info.value)

    assert "no such folder" in error(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    assert "has no class sub-folders" in error(tmp_path / "empty")
    (tmp_path / "loose").mkdir()
    (tmp_path / "loose" / "a.png").write_bytes(tf.io.encode_png(np.zeros((2, 2, 1), "uint8"))
                                               .numpy())
    assert "its 1 images must go into class folders" in error(tmp_path / "loose")
    lonely = write_images(tmp_path / "one", per_class=2)
    for shape in SHAPES[1:]:
        for file in (lonely / shape).iterdir():
            file.unlink()
    message = error(lonely)
    assert f"class folder {lonely / 'circle'} holds no images" in message
    assert not log_root.exists()


def test_unreadable_images_stop_the_run_or_are_skipped_with_a_warning(tmp_path, log_root):
    folder = write_images(tmp_path / "images", per_class=6)
    png = (folder / "bar" / "000.png").read_bytes()
    (folder / "bar" / "000.png").write_bytes(png[: len(png) // 2])  # truncated
    (folder / "circle" / "notes.png").write_text("not an image")
    spec = image_spec(folder)
    with pytest.raises(dlkit.DataError, match=r"2 file\(s\) cannot be read as images: .*bar/"
                       r"000.png, .*circle/notes.png\. Fix or remove them, or set "
                       r"data.bad_files: skip") as info:
        dlkit.train(spec, verbose=0)
    assert info.value.errors[0].path == "data.path"
    assert not log_root.exists()
    spec["data"]["bad_files"] = "skip"
    spec["train"]["epochs"] = 1
    with pytest.warns(BadFileWarning, match=r"bar/000.png.*left out"):
        run = dlkit.train(spec, verbose=0)
    assert json.loads((run.log_dir / "run.json").read_text())["status"] == "finished"
    for file in (folder / "square").iterdir():
        file.write_bytes(b"\x89PNG broken")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BadFileWarning)
        with pytest.raises(dlkit.DataError, match=r"class folder .*square holds no readable"):
            dlkit.train(spec, verbose=0)


def test_labels_that_do_not_fit_the_loss_are_refused_before_training(images, log_root):
    spec = image_spec(images)
    spec["model"]["layers"][-1]["units"] = 2
    with pytest.raises(dlkit.DataError, match=r"class labels 0..2 \(3 classes\) but the output "
                       "layer has 2 unit"):
        dlkit.train(spec, verbose=0)
    assert not log_root.exists()

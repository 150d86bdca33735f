"""What a run writes for TensorBoard: epoch scalars without batch work, text, pictures, and
restart markers for resumed runs."""

import keras
import numpy as np
import tensorflow as tf

import dlkit


def test_tensorboard_gets_events_text_and_pictures(mlp):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    mlp["train"]["epochs"] = 4
    mlp["compile"]["optimizer"] = {"type": "SGD", "learning_rate": 1e-9}
    mlp["callbacks"] = {"early_stopping": {"patience": 1, "min_delta": 1.0}}
    run = dlkit.train(mlp, verbose=0)
    accumulator = EventAccumulator(str(run.log_dir), size_guidance={"tensors": 0})
    accumulator.Reload()
    tags = accumulator.Tags()["tensors"]
    assert {"dlkit/early_stopping", "dlkit/learning_curve", "dlkit/confusion_matrix"} <= set(tags)
    [text] = accumulator.Tensors("dlkit/early_stopping")
    assert b"early stopping at epoch 2" in tf.make_ndarray(text.tensor_proto).item()
    [image] = accumulator.Tensors("dlkit/confusion_matrix")
    width, height = (int(v) for v in tf.make_ndarray(image.tensor_proto)[:2])
    assert width > 100 and height > 100
    assert (run.log_dir / "confusion_matrix.png").read_bytes()[:4] == b"\x89PNG"


def test_epoch_tensorboard_does_no_batch_work_only_when_logging_per_epoch(tmp_path):
    from dlkit._callbacks.tensorboard import EpochTensorBoard

    noop = keras.callbacks.Callback.on_train_batch_end
    assert EpochTensorBoard(log_dir=str(tmp_path)).on_train_batch_end.__func__ is noop
    assert EpochTensorBoard(log_dir=str(tmp_path), update_freq=10).on_train_batch_end.__func__ \
        is keras.callbacks.TensorBoard.on_train_batch_end
    assert EpochTensorBoard(log_dir=str(tmp_path), profile_batch=2).on_train_batch_end.__func__ \
        is not noop


def test_epoch_tensorboard_writes_what_keras_writes(mlp, tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from dlkit._callbacks.tensorboard import EpochTensorBoard

    model = dlkit.build(mlp)
    x, y = np.random.default_rng(0).random((64, 64)), np.arange(64) % 10
    tags = {}
    for name, cls in (("ours", EpochTensorBoard), ("keras", keras.callbacks.TensorBoard)):
        model.fit(x, y, epochs=2, validation_split=0.25, verbose=0,
                  callbacks=[cls(log_dir=str(tmp_path / name))])
        for folder in ("train", "validation"):
            accumulator = EventAccumulator(str(tmp_path / name / folder))
            accumulator.Reload()
            tags[name, folder] = sorted(accumulator.Tags()["tensors"])
    assert tags["ours", "train"] == tags["keras", "train"]
    assert "epoch_loss" in tags["ours", "train"] and "keras" in tags["ours", "train"]
    keras_epoch_tags = [t for t in tags["keras", "validation"] if "_vs_iterations" not in t]
    assert tags["ours", "validation"] == keras_epoch_tags == ["epoch_accuracy", "epoch_loss"]


def test_restart_marker_drops_the_epochs_a_resumed_run_repeats(tmp_path):
    # The accumulator the TensorBoard server uses (the older event_accumulator never purges
    # tensor summaries, which is what tf.summary.scalar writes in TF2).
    from tensorboard.backend.event_processing.plugin_event_accumulator import EventAccumulator

    from dlkit._callbacks.tensorboard import mark_restart

    (tmp_path / "train").mkdir()

    def write(steps, value):
        with tf.summary.create_file_writer(str(tmp_path / "train")).as_default() as writer:
            for step in steps:
                tf.summary.scalar("epoch_loss", value, step=step)
            writer.flush()

    write(range(6), 1.0)  # the killed process got to epoch 5; its backup holds 3 epochs
    mark_restart(tmp_path, epoch=3)
    write(range(3, 7), 2.0)  # the resumed process repeats epochs 3, 4, 5, then dies again
    mark_restart(tmp_path, epoch=5)
    write(range(5, 8), 3.0)  # a second resume
    accumulator = EventAccumulator(str(tmp_path / "train"), size_guidance={"tensors": 0})
    accumulator.Reload()
    events = accumulator.Tensors("epoch_loss")
    assert [e.step for e in events] == list(range(8))
    assert [tf.make_ndarray(e.tensor_proto).item() for e in events] == \
        [1.0] * 3 + [2.0] * 2 + [3.0] * 3


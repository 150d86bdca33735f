"""``dlkit.export``: Keras' own export of a run's model, checked in its runtime, then kept.

Each export is written into a temporary folder beside its destination, loaded in its own
runtime and run on a batch of the run's validation data (held out as training held it out);
only when it computes what the model computes is the folder renamed into place and recorded in
``RUN_DIR/export/export.json``. A failure leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keras
import numpy as np

from dlkit._core.errors import DlkitError, ExportError, first_line
from dlkit._core.files import folder_mode, read_json, write_json_atomic
from dlkit._deploy.calling import compiled_call
from dlkit._deploy.carry import check_carried
from dlkit._deploy.compare import compare
from dlkit._deploy.extras import require
from dlkit._deploy.float32 import compute_dtype, float32_twin, inference_only
from dlkit._deploy.runtimes import RUNTIMES, load_runner
from dlkit._deploy.samples import run_samples
from dlkit._deploy.trained import TrainedRun, open_run

# dlkit's name -> (Keras' format name, the file inside the export folder; None: the folder).
FORMATS = {"saved_model": ("tf_saved_model", None), "onnx": ("onnx", "model.onnx"),
           "litert": ("litert", "model.tflite")}
QUANTIZE = {"litert": ("float16", "int8")}
EXTRA_MODULES = {"onnx": ("tf2onnx", "onnxruntime"), "litert": ("ai_edge_litert",)}
CHECK_SAMPLES = 256  # validation samples every export is checked on
REPRESENTATIVE_SAMPLES = 200  # training samples that calibrate int8
FLOAT_TOLERANCE = 1e-4
EXPORT_DIR, RECORD = "export", "export.json"


def export(run: Any, format: str, *, quantize: str | None = None,  # noqa: A002
           out: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Exports a run's model to `format`, checks it in its own runtime, and records it.

    Args:
        run: a `dlkit.Run` or a run directory.
        format: ``saved_model`` (TensorFlow Serving), ``onnx`` (ONNX Runtime) or ``litert``.
        quantize: ``float16`` or ``int8`` (LiteRT only); int8 is calibrated on samples of the
            run's training data.
        out: the folder to write (default ``RUN_DIR/export/<format>[-<quantize>]``).

    Returns:
        The entry added to ``RUN_DIR/export/export.json``: ``format``, ``quantize``, ``path``,
        ``bytes``, ``max_abs_diff`` (against ``model.keras``), ``agreement`` (classifiers),
        ``checked_on`` (samples), accuracies before and after for classifiers; with several
        outputs, ``outputs`` holds each classifier output's agreement and accuracies.

    Raises:
        ExportError: an unknown format or quantization, a layer or input the format cannot
            carry, an export that does not run in its runtime or does not compute what the
            model computes; nothing is written.
        ExtraMissingError: the format's packages are not installed (``dlkit[export]``).
        RunDirError, DataError: the run or its data cannot be read.
    """
    _check_choice(format, quantize)
    for module in EXTRA_MODULES.get(format, ()):
        require(module, "export", purpose=f"{format} export")
    trained = open_run(run)
    check_carried(trained.model, format)
    model = inference_only(float32_twin(trained.model), [i.name for i in trained.inputs])
    samples = run_samples(trained)
    x_check, y_check = samples.check_batch(CHECK_SAMPLES)
    serving, outputs = _serving_names(trained), trained.output_names
    destination = Path(out) if out else \
        trained.run_dir / EXPORT_DIR / (format + (f"-{quantize}" if quantize else ""))
    started = time.perf_counter()
    with _staged(destination) as staging:
        artifact = _convert(model, format, quantize, staging, _signature(model, serving),
                            samples.representative(REPRESENTATIVE_SAMPLES, serving))
        got = _run_export(format, artifact, list(serving.values()), outputs,
                          {serving[k]: v for k, v in x_check.items()})
        reference = compiled_call(model)(x_check)
        result = compare(reference, got, outputs=outputs, labels=y_check,
                         classifiers=[trained.is_classifier(name) for name in outputs])
        _accept(result, format, quantize)
    entry = {"format": format, "quantize": quantize, "path": _shown(destination, trained),
             "bytes": _size(destination), "checked_on": len(next(iter(x_check.values()))),
             **result, "seconds": round(time.perf_counter() - started, 2)}
    entry.update(_precision_note(trained, model, x_check, reference))
    _record(trained.run_dir / EXPORT_DIR / RECORD, entry)
    return entry


def _check_choice(fmt: str, quantize: str | None) -> None:
    if fmt not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if quantize is not None and quantize not in QUANTIZE.get(fmt, ()):
        allowed = QUANTIZE.get(fmt)
        raise ExportError(f"format {fmt} takes no --quantize {quantize!r}" + (
            f"; choose one of {', '.join(allowed)}" if allowed else
            "; quantized exports are LiteRT's: use --format litert --quantize "
            f"{quantize if quantize in QUANTIZE['litert'] else 'int8'}"))


def _run_export(fmt: str, artifact: Path, names: list[str], outputs: list[str],
                x: dict[str, np.ndarray]) -> list[np.ndarray]:
    """The export's outputs on `x`, computed in its own runtime."""
    try:
        return load_runner(fmt, artifact, names, outputs)(x)
    except DlkitError:
        raise
    except Exception as exc:  # noqa: BLE001 - each runtime raises its own kinds
        raise ExportError(f"the {fmt} export does not run in {RUNTIMES[fmt]}: "
                          f"{type(exc).__name__}: {first_line(exc)[:500]}. Nothing was "
                          "written") from None


def _serving_names(trained: TrainedRun) -> dict[str, str]:
    """Each model input's name in the export (`dlkit._deploy.trained.serving_name`)."""
    serving = {i.name: i.serving for i in trained.inputs}
    if len(set(serving.values())) < len(serving):
        raise ExportError(f"the model's inputs {', '.join(serving)} would be exported as "
                          f"{', '.join(serving.values())}: two of them alike (an export's input "
                          "names are identifiers). Rename the columns or inputs and train "
                          "again. Nothing was written")
    return serving


def _signature(model: keras.Model, serving: dict[str, str]) -> list:
    """The export's input signature: each input's shape and dtype under its serving name, in
    the structure Keras' own export would make (one spec, or the model's dict or list)."""
    import tensorflow as tf

    def spec(tensor: Any) -> tf.TensorSpec:
        return tf.TensorSpec((None, *tensor.shape[1:]), tensor.dtype,
                             name=serving[tensor.name.split(":")[0]])
    if isinstance(model, keras.Sequential):
        return [spec(model.inputs[0])]
    return [keras.tree.map_structure(spec, model.input)]


def _convert(model: keras.Model, fmt: str, quantize: str | None, folder: Path,
             signature: list, representative: Any) -> Path:
    """Keras' own export into `folder`; returns the artifact's path."""
    keras_format, file = FORMATS[fmt]
    artifact = folder / file if file else folder
    options: dict[str, Any] = {"input_signature": signature}
    if quantize is not None:
        import tensorflow as tf

        options["optimizations"] = [tf.lite.Optimize.DEFAULT]
        if quantize == "float16":
            options["target_spec"] = {"supported_types": [tf.float16]}
        else:
            options["representative_dataset"] = representative
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.export(str(artifact), format=keras_format, verbose=False, **options)
    except DlkitError:
        raise
    except Exception as exc:  # noqa: BLE001 - converters raise anything; say which and why
        raise ExportError(f"the {fmt} converter failed: {type(exc).__name__}: "
                          f"{first_line(exc)[:500]}. Nothing was written") from None
    return artifact


def _accept(result: dict, fmt: str, quantize: str | None) -> None:
    if quantize is None and result["max_abs_diff"] > FLOAT_TOLERANCE:
        raise ExportError(f"the {fmt} export does not compute what model.keras computes: its "
                          f"outputs differ by up to {result['max_abs_diff']:.3g} (allowed "
                          f"{FLOAT_TOLERANCE:g}); nothing was written")


def _precision_note(trained: TrainedRun, model: keras.Model, x: dict[str, np.ndarray],
                    reference: list[np.ndarray]) -> dict[str, Any]:
    """For a run trained in mixed precision, how far its float32 export is from it."""
    trained_dtype = compute_dtype(trained.model)
    if trained_dtype == "float32":
        return {"precision": "float32"}
    as_trained = compiled_call(trained.model)(x)
    diff = max(float(np.max(np.abs(np.asarray(a, "float64") - r)))
               for a, r in zip(as_trained, reference))
    return {"precision": "float32", "trained_precision": trained_dtype,
            "max_abs_diff_to_trained_precision": diff}


@contextlib.contextmanager
def _staged(final: Path) -> Iterator[Path]:
    """A temporary folder beside `final`, renamed onto it when the block succeeds and removed
    (with a parent folder made for it) when it fails."""
    created = not final.parent.exists()
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}-"))
    os.chmod(staging, folder_mode())  # mkdtemp's folder is private; a made folder is not
    try:
        yield staging
        old = final.parent / f".{final.name}-old-{os.getpid()}"
        if final.exists():
            os.replace(final, old)
        os.replace(staging, final)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if created and not any(final.parent.iterdir()):
            final.parent.rmdir()


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _shown(path: Path, trained: TrainedRun) -> str:
    try:
        return str(path.resolve().relative_to(trained.run_dir.resolve()))
    except ValueError:
        return str(path.resolve())


def _record(path: Path, entry: dict[str, Any]) -> None:
    """Adds `entry` to export.json, replacing an earlier export to the same path."""
    entries = [e for e in read_json(path, []) if e.get("path") != entry["path"]]
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic(path, [*entries, entry])

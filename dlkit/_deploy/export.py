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
from dlkit._core.files import read_json, write_json_atomic
from dlkit._deploy.carry import check_carried
from dlkit._deploy.compare import compare
from dlkit._deploy.extras import require
from dlkit._deploy.float32 import compute_dtype, float32_twin
from dlkit._deploy.runtimes import load_runner
from dlkit._deploy.trained import TrainedRun, open_run
from dlkit._train.fitdata import split_arrays

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
        ``checked_on`` (samples), accuracies before and after for classifiers.

    Raises:
        ExportError: an unknown format or quantization, a layer the format cannot carry, or an
            export that does not compute what the model computes; nothing is written.
        ExtraMissingError: the format's packages are not installed (``dlkit[export]``).
        RunDirError, DataError: the run or its data cannot be read.
    """
    _check_choice(format, quantize)
    for module in EXTRA_MODULES.get(format, ()):
        require(module, "export", purpose=f"{format} export")
    trained = open_run(run)
    model = float32_twin(trained.model)
    check_carried(model, format)
    arrays = split_arrays(trained.plan)
    x_check, y_check = _check_batch(arrays)
    names = [i.name for i in trained.inputs]
    destination = Path(out) if out else \
        trained.run_dir / EXPORT_DIR / (format + (f"-{quantize}" if quantize else ""))
    started = time.perf_counter()
    with _staged(destination) as staging:
        artifact = _convert(model, format, quantize, staging, _representative(arrays.x, names))
        got = load_runner(format, artifact, names, trained.output_names)(_named(x_check, names))
        reference = _outputs(model.predict(_model_input(x_check, names), verbose=0))
        result = compare(reference, got, classifier=trained.plan.compile.classifier,
                         labels=y_check)
        _accept(result, format, quantize)
    entry = {"format": format, "quantize": quantize, "path": _shown(destination, trained),
             "bytes": _size(destination), "checked_on": len(_first(x_check)), **result,
             "seconds": round(time.perf_counter() - started, 2)}
    entry.update(_precision_note(trained, model, x_check, names, reference))
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


def _check_batch(arrays: Any) -> tuple[Any, np.ndarray | None]:
    """Up to CHECK_SAMPLES validation samples (training samples where none are held out)."""
    x, y = (arrays.x_val, arrays.y_val) if arrays.x_val is not None else (arrays.x, arrays.y)
    take = slice(0, CHECK_SAMPLES)
    x = {k: v[take] for k, v in x.items()} if isinstance(x, dict) else x[take]
    return x, None if y is None or isinstance(y, dict) else np.asarray(y)[take]


def _named(x: Any, names: list[str]) -> dict[str, np.ndarray]:
    """`x` by input name, numbers as float32 (what the exports take)."""
    def cast(v: Any) -> np.ndarray:
        v = np.asarray(v)
        return v.astype("float32") if v.dtype.kind in "biuf" else v
    if isinstance(x, dict):
        return {k: cast(x[k]) for k in names}
    return {names[0]: cast(x)}


def _model_input(x: Any, names: list[str]) -> Any:
    return x if not isinstance(x, dict) else {k: x[k] for k in names}


def _first(x: Any) -> np.ndarray:
    return next(iter(x.values())) if isinstance(x, dict) else x


def _outputs(predicted: Any) -> list[np.ndarray]:
    if isinstance(predicted, dict):
        return [np.asarray(v) for v in predicted.values()]
    return [np.asarray(v) for v in predicted] if isinstance(predicted, (list, tuple)) else \
        [np.asarray(predicted)]


def _representative(x: Any, names: list[str]) -> Any:
    """A generator of single training samples that calibrates int8 quantization."""
    count = len(_first(x))
    picks = np.random.default_rng(0).choice(count, min(count, REPRESENTATIVE_SAMPLES),
                                            replace=False)

    def samples() -> Iterator[Any]:
        for i in picks:
            named = _named({k: v[i:i + 1] for k, v in x.items()} if isinstance(x, dict)
                           else x[i:i + 1], names)
            yield [named[names[0]]] if len(names) == 1 else named
    return samples


def _convert(model: keras.Model, fmt: str, quantize: str | None, folder: Path,
             representative: Any) -> Path:
    """Keras' own export into `folder`; returns the artifact's path."""
    keras_format, file = FORMATS[fmt]
    artifact = folder / file if file else folder
    options: dict[str, Any] = {}
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


def _precision_note(trained: TrainedRun, model: keras.Model, x: Any, names: list[str],
                    reference: list[np.ndarray]) -> dict[str, Any]:
    """For a run trained in mixed precision, how far its float32 export is from it."""
    trained_dtype = compute_dtype(trained.model)
    if model is trained.model:
        return {"precision": "float32"}
    as_trained = _outputs(trained.model.predict(_model_input(x, names), verbose=0))
    diff = max(float(np.max(np.abs(a - r))) for a, r in zip(as_trained, reference))
    return {"precision": "float32", "trained_precision": trained_dtype,
            "max_abs_diff_to_trained_precision": diff}


@contextlib.contextmanager
def _staged(final: Path) -> Iterator[Path]:
    """A temporary folder beside `final`, renamed onto it when the block succeeds and removed
    (with a parent folder made for it) when it fails."""
    created = not final.parent.exists()
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}-"))
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

"""Loading saved models safely: nothing in a model file is imported or executed."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import keras

import dlkit._data.encoding  # noqa: F401 - registers FillMissing, which table models hold
import dlkit._model.gan  # noqa: F401 - registers GAN, which a GAN run's model.keras holds
import dlkit._model.vae  # noqa: F401 - registers VAE, which a VAE run's model.keras holds
from dlkit._core.errors import ModelFileError, first_line


def load_model(path: str | os.PathLike[str], *, compile: bool = True) -> keras.Model:
    """Loads a ``.keras`` file (a dlkit run's ``model.keras``, say) in Keras' safe mode.

    A model file may only name Keras objects and ones registered with
    `keras.saving.register_keras_serializable`; Lambda layers and other code are refused, and
    no module a file names is imported.

    Args:
        path: a ``.keras`` file.
        compile: restore the optimizer, loss and metrics too.

    Returns:
        The model.

    Raises:
        ModelFileError: the file is missing, unreadable, or names code that safe mode
            refuses.
    """
    file = Path(path)
    if not file.is_file():
        raise ModelFileError(f"{file}: no such model file")
    try:
        return keras.saving.load_model(file, compile=compile, safe_mode=True)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ModelFileError(f"{file}: not a readable .keras file ({first_line(exc)})") from None
    except Exception as exc:  # noqa: BLE001 - Keras raises several kinds for refused configs
        raise ModelFileError(f"{file}: refused in safe mode ({type(exc).__name__}: "
                             f"{first_line(exc)[:300]}). A model file may only name Keras "
                             "objects and ones registered with "
                             "keras.saving.register_keras_serializable; dlkit never runs code "
                             "from a model file") from None

"""The public surface: exactly the intended names, cheap and side-effect-free to import."""

import dlkit
from conftest import python

INTENDED = ["BadFileWarning", "ClusterError", "DataError", "DlkitError", "ExportError",
            "ExtraMissingError", "InitializationWarning", "ModelFileError", "Problem", "Run",
            "RunDirError", "SearchResult", "SearchSpec", "Spec", "SpecError", "SpecWarning",
            "TrainingError", "anomaly_scores", "build", "callbacks", "diagnose", "export",
            "landscape", "load_model", "load_search", "load_spec", "predict", "predict_file",
            "sample", "score_file", "search", "serve", "sharpness", "train"]


def test_exported_names_are_exactly_the_intended_ones():
    assert dlkit.__all__ == INTENDED
    for name in INTENDED:
        assert getattr(dlkit, name) is not None


def test_error_hierarchy():
    assert issubclass(dlkit.SpecError, ValueError)
    assert issubclass(dlkit.SpecError, dlkit.DlkitError)
    assert issubclass(dlkit.DataError, dlkit.SpecError)
    for kind in (dlkit.ClusterError, dlkit.ModelFileError, dlkit.RunDirError, dlkit.TrainingError,
                 dlkit.ExportError, dlkit.ExtraMissingError):
        assert issubclass(kind, dlkit.DlkitError) and not issubclass(kind, dlkit.SpecError)
        assert not issubclass(kind, ValueError)


def test_every_error_class_is_documented_in_the_one_tree():
    import dlkit._core.errors as errors

    for name in INTENDED:
        value = getattr(dlkit, name)
        if isinstance(value, type) and issubclass(value, (dlkit.DlkitError, Warning)):
            assert value.__module__ == "dlkit._core.errors", name
            assert name in errors.__doc__, f"{name} is missing from the hierarchy in the docstring"


def test_import_loads_no_tensorflow_sets_no_environment_and_creates_nothing(tmp_path):
    code = ("import os, sys; before = dict(os.environ); import dlkit; "
            "assert 'tensorflow' not in sys.modules, 'tensorflow imported'; "
            "assert 'keras' not in sys.modules, 'keras imported'; "
            "assert dict(os.environ) == before, 'environment changed'; "
            "assert os.listdir('.') == [], os.listdir('.')")
    result = python(code, cwd=tmp_path)
    assert result.returncode == 0, result.stderr


def test_unknown_attribute_is_an_attribute_error():
    try:
        dlkit.no_such_thing  # noqa: B018
    except AttributeError as exc:
        assert "no_such_thing" in str(exc)
    else:
        raise AssertionError("expected AttributeError")

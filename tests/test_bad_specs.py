"""A catalogue of bad specs (tests/bad_specs/*.yaml): each error names its path and the fix.

Each file starts with ``# expect: <path> :: <words>`` lines: the problem paths the error must
name and the words each message must contain (an empty path: a problem with the whole file).
The CLI must exit 2 on each, without a traceback.
"""

import re
import warnings
from pathlib import Path

import pytest

import dlkit
from dlkit._cli import main

CATALOGUE = sorted((Path(__file__).parent / "bad_specs").glob("*.yaml"))


def expectations(path: Path) -> list[tuple[str, str]]:
    found = re.findall(r"^# expect: ?(.*?) ?:: (.*)$", path.read_text(), re.M)
    assert found, f"{path.name} has no '# expect:' line"
    return found


def test_the_catalogue_holds_at_least_thirty_bad_specs():
    assert len(CATALOGUE) >= 30


@pytest.mark.parametrize("path", CATALOGUE, ids=lambda p: p.stem)
def test_each_bad_spec_names_its_problems(path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a canary a spec might create would land here
    with pytest.raises(dlkit.SpecError) as info:
        dlkit.build(dlkit.load_spec(path))
    problems = {p.path: p.message for p in info.value.errors}
    for where, words in expectations(path):
        if where:
            assert where in problems, f"{where} not in {list(problems)}"
            assert words in problems[where], problems[where]
        else:
            assert words in str(info.value)
    assert not list(tmp_path.iterdir()), "loading a spec created a file"


@pytest.mark.parametrize("path", CATALOGUE, ids=lambda p: p.stem)
def test_the_cli_exits_2_without_a_traceback(path, capsys, monkeypatch):
    monkeypatch.setattr(warnings, "showwarning", warnings.showwarning)  # main() replaces it
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err
    for where, words in expectations(path):
        assert words in err

"""The README's commands and CI stay one and the same."""

import re

from conftest import REPO


def readme_commands() -> list[str]:
    text = (REPO / "README.md").read_text()
    block = re.search(r"```bash\n(.*?)```", text, re.S).group(1)
    return [line for line in block.splitlines() if line and not line.startswith("#")]


def test_readme_starts_with_the_two_fresh_machine_commands():
    train, tests = readme_commands()
    assert "dlkit train examples/digits_cnn.yaml" in train and "pip install" in train
    assert "pytest" in tests and "pip install" in tests


def test_ci_runs_exactly_the_readme_test_command():
    _, tests = readme_commands()
    ci_lines = (REPO / ".ci" / "run").read_text().splitlines()
    assert tests in ci_lines


def test_every_example_is_linked_from_the_readme():
    text = (REPO / "README.md").read_text()
    for example in sorted((REPO / "examples").glob("*.yaml")):
        assert f"examples/{example.name}" in text, example.name

"""The ``train`` section: epochs, batch size, shuffling, and fine-tuning a base
(`dlkit._spec.sections.base`)."""

from __future__ import annotations

from dlkit._core.errors import Problems
from dlkit._spec.rules import boolean, check_keys, is_int, mapping_or_none
from dlkit._spec.sections.base import check_fine_tune

TRAIN_KEYS = ("epochs", "batch_size", "shuffle", "fine_tune")


def check_train(value: object, problems: Problems) -> object:
    section = mapping_or_none(value, "train", problems)
    if section is None:
        return value
    check_keys(section, TRAIN_KEYS, "train", problems)
    section = {"epochs": 10, "batch_size": 32, "shuffle": True, **section}
    epochs, batch = section["epochs"], section["batch_size"]
    if not (is_int(epochs) and 0 < epochs <= 10**6):
        problems.add("train.epochs", f"expected a positive integer, received {epochs!r}")
    if not (batch == "full" or (is_int(batch) and 0 < batch <= 10**8)):
        problems.add("train.batch_size", "expected a positive integer (1 for stochastic gradient "
                     f"descent) or \"full\" (batch gradient descent), received {batch!r}")
    boolean(section["shuffle"], "train.shuffle", problems)
    if "fine_tune" in section:
        section["fine_tune"] = check_fine_tune(section["fine_tune"], problems)
    return section

"""What a search tells: a line per trial, ``search.json``, and a ranked table at the end.

Everything is read from the oracle's trials (KerasTuner keeps the values, status and score)
and, for a failed trial, from its ``trials/<id>/run.json`` (the reason): so the same code
reports in one process, on a chief that only serves the oracle, and on a worker.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dlkit._core.files import read_json, write_json_atomic
from dlkit._search.space import spec_values
from dlkit._search.spec import SearchSpec
from dlkit._search.trial import TRIALS_DIR, round_of
from dlkit._spec.spaces import Space, flow

SUMMARY_FILE = "search.json"
STATUSES = {"COMPLETED": "completed", "FAILED": "failed", "INVALID": "failed"}


@dataclass(frozen=True)
class TrialRecord:
    """One finished trial.

    Attributes:
        id: KerasTuner's trial id, also its folder ``trials/<id>/``.
        values: the searched values, keyed by spec path.
        score: the objective at the trial's best epoch (None when it failed).
        status: ``completed`` or ``failed``.
        error: why it failed.
        log_dir: its run directory.
        epochs: hyperband: the epoch it trained to; parent: the trial it continued.
    """

    id: str
    values: Mapping[str, Any]
    score: float | None
    status: str
    error: str | None
    log_dir: Path
    epochs: int | None = None
    parent: str | None = None

    def to_json(self) -> dict[str, Any]:
        data = {"id": self.id, "values": dict(self.values), "score": self.score,
                "status": self.status, "run_dir": f"{TRIALS_DIR}/{self.id}"}
        if self.error is not None:
            data["error"] = self.error
        if self.epochs is not None:
            data.update(epochs=self.epochs, continues=self.parent)
        return data


def record_of(trial: Any, search: SearchSpec, search_dir: Path) -> TrialRecord | None:
    """The record of a KerasTuner trial that ended (None while it runs)."""
    status = STATUSES.get(str(trial.status))
    if status is None:
        return None
    chosen = trial.hyperparameters.values
    log_dir = Path(search_dir) / TRIALS_DIR / trial.trial_id
    error = None
    if status == "failed":
        error = read_json(log_dir / "run.json", {}).get("error") or \
            "failed on a worker whose files are not here (see its trials/<id>/run.json)"
    plan = round_of(chosen)
    return TrialRecord(trial.trial_id, spec_values(search.spaces, chosen),
                       float(trial.score) if status == "completed" else None, status, error,
                       log_dir,
                       epochs=plan.epochs if plan else None, parent=plan.parent if plan else None)


def labels(spaces: tuple[Space, ...]) -> dict[str, str]:
    """Short names for the spaces: the shortest end of each path no other path ends with
    (``units``, or ``layers[0].units`` when two layers have units)."""
    parts = {s.path: re.findall(r"[^.\[]+(?:\[\d+\])*", s.path) for s in spaces}
    result = {}
    for path, steps in parts.items():
        for size in range(1, len(steps) + 1):
            label = ".".join(steps[-size:])
            if not any(other != path and ".".join(o[-size:]) == label
                       for other, o in parts.items()):
                break
        result[path] = label
    return result


def shown(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else flow(value)


class Reporter:
    """Prints a line per ended trial and keeps ``search.json`` up to date.

    Args:
        search, search_dir: the search.
        verbose: print lines (a worker's or a quiet search's are not).
        writes: keep ``search.json`` (the process that owns the oracle).
        total: how many trials the search runs, when known.
        clock: seconds, for the elapsed time shown.
    """

    def __init__(self, search: SearchSpec, search_dir: Path, *, verbose: bool, writes: bool,
                 total: int | None = None, clock: Callable[[], float] = time.monotonic,
                 show: Callable[[str], None] = print) -> None:
        self.search, self.search_dir, self.total = search, Path(search_dir), total
        self.verbose, self.writes, self.clock, self.show = verbose, writes, clock, show
        self.started = clock()
        self.labels = labels(search.spaces)
        self.reported: set[str] = set()
        self.ended_records: list[TrialRecord] = []

    def ended(self, trial: Any, oracle: Any) -> None:
        """Reports one ended trial (once), reading the best so far from `oracle`."""
        record = record_of(trial, self.search, self.search_dir)
        if record is None or record.id in self.reported:
            return
        self.reported.add(record.id)
        self.ended_records.append(record)
        if self.verbose:
            self.show(self.line(record, self.best_so_far(oracle)))
        if self.writes:
            self.write(oracle, "running")

    def best_so_far(self, oracle: Any) -> TrialRecord | None:
        """The best trial reported so far; a worker, which reports only its own, asks the
        oracle."""
        if not self.writes:
            found = [t for t in oracle.get_best_trials(1) if str(t.status) == "COMPLETED"]
            return record_of(found[0], self.search, self.search_dir) if found else None
        best = ranked(self.ended_records, self.search.settings["objective"]["direction"])
        return best[0] if best else None

    def line(self, record: TrialRecord, best: TrialRecord | None) -> str:
        """``trial 03/20  units=96 activation=tanh  val_accuracy 0.9521  best 0.961 (01)``."""
        head = f"trial {record.id}" + (f" [{int(record.id) + 1}/{self.total}]"
                                       if self.total and record.id.isdigit() else "")
        values = "  ".join(f"{self.labels[p]}={shown(v)}" for p, v in record.values.items())
        if record.epochs is not None:
            values += f"  epochs={record.epochs}" + \
                (f" (continues {record.parent})" if record.parent else "")
        name = self.search.settings["objective"]["name"]
        result = f"failed: {record.error}" if record.score is None else \
            f"{name} {record.score:.4f}"
        if best is not None:
            result += f"  best {best.score:.4f} ({best.id})"
        return f"{head}  {values}  {result}  [{_elapsed(self.clock() - self.started)}]"

    def records(self, oracle: Any) -> list[TrialRecord]:
        """Every ended trial, in the order they started."""
        found = (record_of(oracle.trials[i], self.search, self.search_dir)
                 for i in oracle.start_order)
        return [record for record in found if record is not None]

    def write(self, oracle: Any, status: str, **details: Any) -> list[TrialRecord]:
        """Writes ``search.json``; returns the records in it."""
        records = self.records(oracle)
        best = ranked(records, self.search.settings["objective"]["direction"])
        write_json_atomic(self.search_dir / SUMMARY_FILE, {
            "name": self.search.name, "status": status,
            "algorithm": self.search.settings["algorithm"],
            "objective": dict(self.search.settings["objective"]),
            "spaces": {s.path: s.definition() for s in self.search.spaces},
            "best": {"id": best[0].id, "score": best[0].score} if best else None,
            "trials": [record.to_json() for record in records], **details})
        return records


def ranked(records: list[TrialRecord], direction: str) -> list[TrialRecord]:
    """The completed trials, best first."""
    done = [r for r in records if r.score is not None]
    return sorted(done, key=lambda r: r.score, reverse=direction == "max")


def ranked_table(records: list[TrialRecord], search: SearchSpec, *, limit: int = 10) -> str:
    """The best trials as a table (at most `limit`), then the failed ones with their reasons."""
    objective = search.settings["objective"]
    names = labels(search.spaces)
    rows = [["rank", "trial", objective["name"], *names.values()]]
    for rank, record in enumerate(ranked(records, objective["direction"])[:limit], start=1):
        rows.append([str(rank), record.id, f"{record.score:.4f}",
                     *(shown(record.values.get(path, "")) for path in names)])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip()
             for row in rows]
    failed = [r for r in records if r.score is None]
    if failed:
        lines.append(f"failed ({len(failed)}):")
        lines.extend(f"  trial {r.id}: {r.error}" for r in failed)
    return "\n".join(lines)


def _elapsed(seconds: float) -> str:
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes // 60}:{minutes % 60:02d}:{seconds:02d}" if minutes >= 60 else \
        f"{minutes}:{seconds:02d}"

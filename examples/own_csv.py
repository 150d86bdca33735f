"""Train on your own CSV with numbers, text categories and blank cells: here, generated ship
passengers.

Run:  python examples/own_csv.py

Writes ``passengers.csv`` (age with blanks, fare, sex and port as text with blanks, deck as
numbers that are categories, class, siblings; the target ``survived`` is yes or no and depends
on sex, class and age) in the current directory, then trains examples/own_csv.yaml on it and
asks the saved model.keras about two raw rows, blanks included.
"""

import os
from pathlib import Path

import numpy as np

import dlkit

EPOCHS = int(os.environ.get("DLKIT_EXAMPLE_EPOCHS", "20"))
HERE = Path(__file__).resolve().parent


def write_passengers(path: Path, rows: int = 800, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    lines = ["age,fare,sex,port,deck,class,siblings,survived"]
    for _ in range(rows):
        sex, klass = rng.choice(["female", "male"]), int(rng.integers(1, 4))
        age = float(rng.uniform(1, 70))
        chance = 0.15 + 0.55 * (sex == "female") + 0.12 * (3 - klass) + 0.2 * (age < 12)
        survived = "yes" if rng.uniform() < chance else "no"
        fare = 100 / klass * rng.uniform(0.7, 1.3)
        cells = ["" if rng.uniform() < 0.15 else f"{age:.0f}", f"{fare:.2f}",
                 "" if rng.uniform() < 0.03 else sex,
                 rng.choice(["cherbourg", "queenstown", "southampton", ""]),
                 str(rng.integers(1, 5)), str(klass), str(rng.integers(0, 4)), survived]
        lines.append(",".join(cells))
    path.write_text("\n".join(lines) + "\n")


def run(logdir: str = "logs", path: str = "passengers.csv") -> dict:
    if not Path(path).is_file():
        write_passengers(Path(path))
    spec = dlkit.load_spec(HERE / "own_csv.yaml",
                           overrides=[f"data.path={path}", f"train.epochs={EPOCHS}"])
    run = dlkit.train(spec, logdir=logdir, verbose=0)
    import tensorflow as tf

    model = dlkit.load_model(run.log_dir / "model.keras")
    raw = {"age": [[8.0], [float("nan")]], "fare": [[90.0], [8.0]], "sex": [["female"], [""]],
           "port": [["cherbourg"], ["atlantis"]], "deck": [["1"], ["4"]],
           "class": [[1.0], [3.0]], "siblings": [[1.0], [0.0]]}
    scores = model({name: tf.constant(value) for name, value in raw.items()}).numpy()
    return {"val_accuracy": float(np.max(run.history["val_accuracy"])),
            "p_yes": scores[:, 1].round(2).tolist(), "log_dir": str(run.log_dir)}


if __name__ == "__main__":
    result = run()
    print(f"best validation accuracy {result['val_accuracy']:.3f}; chance of 'yes' for a girl "
          f"in first class and for a man with blanks: {result['p_yes']}; run in "
          f"{result['log_dir']}")

"""Train a text classifier on your own folder of .txt files: here, generated short notes on
three topics.

Run:  python examples/own_text.py

Writes ``topic_texts/<topic>/<n>.txt`` (cooking, football, weather; each note mixes topic words
with common words) in the current directory, then trains examples/own_text.yaml on it. The
TextVectorization layer is adapted on the training files only; the saved model.keras takes raw
strings and answers with class probabilities, in the folders' (sorted) order.
"""

import os
from pathlib import Path

import numpy as np

import dlkit

EPOCHS = int(os.environ.get("DLKIT_EXAMPLE_EPOCHS", "10"))
HERE = Path(__file__).resolve().parent
TOPICS = {
    "cooking": "bake boil bread butter cheese chop dough flour garlic oven pan pepper recipe "
               "roast salt sauce simmer soup spoon taste",
    "football": "ball coach corner defender foul goal keeper kick league match midfield "
                "offside pass penalty pitch referee score striker tackle team",
    "weather": "breeze cloud cold drizzle fog forecast frost hail humid rain sky snow storm "
               "sun sunny temperature thunder warm wet wind",
}
COMMON = "the a and of to in is it was on for with as at this that we they very".split()


def write_notes(folder: Path, per_topic: int = 150, seed: int = 0) -> int:
    """Writes `per_topic` notes of 12-30 words per topic; returns how many files."""
    rng = np.random.default_rng(seed)
    for topic, words in TOPICS.items():
        (folder / topic).mkdir(parents=True, exist_ok=True)
        for index in range(per_topic):
            length = int(rng.integers(12, 30))
            topical = rng.choice(words.split(), size=length // 3)
            note = list(rng.choice(COMMON, size=length - len(topical))) + list(topical)
            rng.shuffle(note)
            (folder / topic / f"{index:03d}.txt").write_text(" ".join(note).capitalize() + ".")
    return per_topic * len(TOPICS)


def run(logdir: str = "logs", folder: str = "topic_texts") -> dict:
    if not Path(folder).is_dir():
        write_notes(Path(folder))
    spec = dlkit.load_spec(HERE / "own_text.yaml",
                           overrides=[f"data.path={folder}", f"train.epochs={EPOCHS}"])
    run = dlkit.train(spec, logdir=logdir, verbose=0)
    import tensorflow as tf

    model = dlkit.load_model(run.log_dir / "model.keras")
    notes = tf.constant([["The striker kicked the ball past the keeper"],
                         ["Simmer the soup and add salt and pepper"]])
    answers = [sorted(TOPICS)[i] for i in np.argmax(model(notes), axis=-1)]
    return {"val_accuracy": float(np.max(run.history["val_accuracy"])), "answers": answers,
            "log_dir": str(run.log_dir)}


if __name__ == "__main__":
    result = run()
    print(f"best validation accuracy {result['val_accuracy']:.3f}; two new notes read as "
          f"{result['answers']}; run in {result['log_dir']}")

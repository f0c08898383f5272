"""Score model/model.pkl on data/prepared/test.csv and write metrics.json."""

import json
import pickle
from pathlib import Path

import pandas as pd
from sklearn.metrics import accuracy_score, f1_score

MODEL = Path("model/model.pkl")
TEST = Path("data/prepared/test.csv")
METRICS = Path("metrics.json")


def main() -> None:
    with MODEL.open("rb") as fh:
        # Safe: the pickle is this pipeline's own output, never untrusted input.
        model = pickle.load(fh)
    data = pd.read_csv(TEST)
    features, labels = data.drop(columns=["target"]), data["target"]
    predicted = model.predict(features)
    # Rounded, sorted and newline-terminated so the file diffs cleanly in git.
    metrics = {
        "accuracy": round(float(accuracy_score(labels, predicted)), 6),
        "f1_macro": round(float(f1_score(labels, predicted, average="macro")), 6),
    }
    METRICS.write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()

"""Fit a random forest on data/prepared/train.csv and pickle it to model/model.pkl."""

import pickle
from pathlib import Path

import pandas as pd
import yaml
from sklearn.ensemble import RandomForestClassifier

TRAIN = Path("data/prepared/train.csv")
MODEL = Path("model/model.pkl")
# Pin the pickle protocol: the default changes between Python versions, which
# would change the model's bytes (and its DVC hash) without any real change.
PICKLE_PROTOCOL = 4


def main() -> None:
    params = yaml.safe_load(Path("params.yaml").read_text())["train"]
    data = pd.read_csv(TRAIN)
    features, labels = data.drop(columns=["target"]), data["target"]
    # n_jobs=1 keeps tree building single-threaded so the result is bit-for-bit
    # identical on every rerun.
    model = RandomForestClassifier(
        n_estimators=params["n_estimators"],
        max_depth=params["max_depth"],
        random_state=params["seed"],
        n_jobs=1,
    )
    model.fit(features, labels)
    MODEL.parent.mkdir(parents=True, exist_ok=True)
    with MODEL.open("wb") as fh:
        pickle.dump(model, fh, protocol=PICKLE_PROTOCOL)


if __name__ == "__main__":
    main()

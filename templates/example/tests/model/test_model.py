"""Model tests for the wine classifier, run by gitml on every commit that changes the model.

The fixtures come from gitml's pytest plugin: `gitml_model` is the committed model (its bytes
from the DVC cache, loaded only after their md5 matches), `gitml_data` maps DVC-tracked paths
to local files, `gitml_metrics` / `gitml_baseline` are this commit's and the baseline's metrics.
Run them with `gitml test`.
"""

import pandas as pd


def test_predicts_the_three_wine_classes(gitml_model, gitml_data):
    test = pd.read_csv(gitml_data["data/prepared/test.csv"])
    predicted = gitml_model.predict(test.drop(columns=["target"]))
    assert set(predicted) == {0, 1, 2}


def test_accuracy_on_the_test_split(gitml_model, gitml_data):
    test = pd.read_csv(gitml_data["data/prepared/test.csv"])
    accuracy = (gitml_model.predict(test.drop(columns=["target"])) == test["target"]).mean()
    assert accuracy > 0.8

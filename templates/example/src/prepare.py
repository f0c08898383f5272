"""Split data/wine.csv into data/prepared/{train,test}.csv using params.yaml `prepare`."""

from pathlib import Path

import pandas as pd
import yaml
from sklearn.model_selection import train_test_split

RAW = Path("data/wine.csv")
OUT_DIR = Path("data/prepared")


def main() -> None:
    params = yaml.safe_load(Path("params.yaml").read_text())["prepare"]
    data = pd.read_csv(RAW)
    # Stratify so both splits keep the class balance; the seed makes the split
    # (and therefore every downstream hash) reproducible.
    train, test = train_test_split(
        data,
        test_size=params["test_size"],
        random_state=params["seed"],
        stratify=data["target"],
    )
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    for name, frame in (("train", train), ("test", test)):
        frame.to_csv(OUT_DIR / f"{name}.csv", index=False, float_format="%.6g", lineterminator="\n")


if __name__ == "__main__":
    main()

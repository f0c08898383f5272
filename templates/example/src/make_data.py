"""Write the raw wine dataset to CSV.

Usage: python src/make_data.py data/wine.csv

The output is the project's raw input: it is tracked with `dvc add`, not produced
by a pipeline stage, so it must be byte-identical every time it is regenerated.
"""

import sys
from pathlib import Path

from sklearn.datasets import load_wine


def main(out_path: str) -> None:
    frame = load_wine(as_frame=True).frame
    # Integer labels keep the CSV stable and readable ("0", not "0.0").
    frame["target"] = frame["target"].astype(int)
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    # Fixed float format and "\n" line endings so bytes never depend on the
    # platform or on pandas' repr choices.
    frame.to_csv(out, index=False, float_format="%.6g", lineterminator="\n")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python src/make_data.py OUT_CSV")
    main(sys.argv[1])

"""gitml/datareaders.py (with gitml/frame.py and gitml/sampling.py): datasets read into one
frame in process, from small files in tmp_path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gitml import datareaders
from gitml.datareaders import Source
from gitml.errors import BadInput
from gitml.sampling import Sample


def sources(root: Path, files: dict[str, str]) -> list[Source]:
    found = []
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
        found.append(Source(name, root / name))
    return found


def test_formats_are_told_from_names_or_configured() -> None:
    assert datareaders.format_of("d/x.TSV", "auto") == "tsv"
    assert datareaders.format_of("x.ndjson", "auto") == "jsonl"
    assert datareaders.format_of("x.bin", "csv") == "csv"
    with pytest.raises(
        BadInput, match="x.bin: cannot tell its format from the name; set `format:`"
    ):
        datareaders.format_of("x.bin", "auto")


@pytest.mark.parametrize(
    ("name", "text", "fmt"),
    [
        ("d.csv", "a,b\n1,x\n2,y\n", "csv"),
        ("d.tsv", "a\tb\n1\tx\n2\ty\n", "tsv"),
        ("d.jsonl", '{"a": 1, "b": "x"}\n{"a": 2, "b": "y"}\n', "jsonl"),
        ("d.json", json.dumps([{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]), "json"),
    ],
)
def test_each_format_reads_the_same_table(tmp_path: Path, name: str, text: str, fmt: str) -> None:
    frame = datareaders.read_frame(sources(tmp_path, {name: text}), [fmt], {})
    assert frame.df.to_dict("list") == {"a": [1, 2], "b": ["x", "y"]}
    assert frame.dtypes["a"] == "int64" and frame.df["b"].dtype == object
    assert frame.where(1) == "row 2"


def test_a_directory_is_the_union_of_its_files_and_rows_are_traced(tmp_path: Path) -> None:
    files = sources(tmp_path, {"d/1.csv": "a\n1\n2\n", "d/2.csv": "a\n3\n4\n5\n"})
    frame = datareaders.read_frame(files, ["csv", "csv"], {})
    assert frame.df["a"].tolist() == [1, 2, 3, 4, 5]
    assert (frame.where(0), frame.where(3)) == ("1.csv row 1", "2.csv row 2")
    first = datareaders.read_frame(files, ["csv", "csv"], {}, Sample(3))
    assert first.df["a"].tolist() == [1, 2, 3]
    with pytest.raises(BadInput, match="d: a directory is validated as the union of files of one"):
        datareaders.read_frame(files, ["csv", "tsv"], {})


def test_a_random_sample_is_the_same_for_the_same_seed(tmp_path: Path) -> None:
    files = sources(
        tmp_path,
        {"d/1.csv": "a\n" + "".join(f"{i}\n" for i in range(50)), "d/2.csv": "a\n7\n8\n"},
    )
    draw = Sample(rows=10, method="random", seed=4)
    one = datareaders.read_frame(files, ["csv", "csv"], {}, draw)
    again = datareaders.read_frame(files, ["csv", "csv"], {}, draw)
    other = datareaders.read_frame(files, ["csv", "csv"], {}, Sample(10, "random", 5))
    values = one.df["a"].tolist()
    assert len(values) == 10 == len(set(values)) and values == again.df["a"].tolist()
    assert values != other.df["a"].tolist()
    for i, value in enumerate(values):  # each row traced to its file and row
        name, _, row = one.where(i).partition(" row ")
        expected = int(row) - 1 if name == "1.csv" else [7, 8][int(row) - 1]
        assert value == expected
    assert draw.record == {"method": "random", "rows": 10, "seed": 4}
    assert Sample(5).record == {"rows": 5}


@pytest.mark.parametrize(
    ("text", "options", "message"),
    [
        ("", {}, "d.csv: the file is empty"),
        ("a,b\n", {}, "d.csv: the file has no rows"),
        ("a\n1\n", {"no_such_option": 1}, "d.csv: bad `read:` options in gitml.yaml"),
        ("a\n1\n", {"usecols": ["zz"]}, "d.csv: cannot be read as csv"),
    ],
)
def test_unreadable_data_is_one_message_naming_the_file(
    tmp_path: Path, text: str, options: dict[str, object], message: str
) -> None:
    with pytest.raises(BadInput) as exc:
        datareaders.read_frame(sources(tmp_path, {"d.csv": text}), ["csv"], options)
    assert message in str(exc.value)


def test_samples_and_the_size_limit_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    assert datareaders.check_sample("d.csv", None) is None
    assert datareaders.check_sample("d.csv", {"rows": 5}) == Sample(5)
    assert datareaders.check_sample("d.csv", {"rows": 5, "method": "random"}) == Sample(
        5, "random", 0
    )
    for bad in ({"rows": 0}, {"rows": True}, {"rows": 5, "seed": 1}, {"rows": 5, "x": 1}):
        with pytest.raises(BadInput, match="gitml.yaml: `sample` of 'd.csv' must be"):
            datareaders.check_sample("d.csv", bad)
    datareaders.check_size("d.csv", 10, None, configured=10)
    datareaders.check_size("d.csv", 11, Sample(1), configured=10)  # a sample may be bigger
    with pytest.raises(BadInput, match="d.csv is 0.0 MiB, above gitml's validation limit"):
        datareaders.check_size("d.csv", 11, None, configured=10)
    monkeypatch.setenv(datareaders.MAX_BYTES_ENV, "lots")
    with pytest.raises(BadInput, match="GITML_VALIDATE_MAX_BYTES='lots' must be a number"):
        datareaders.check_size("d.csv", 11, None)


def test_workspace_files_stay_inside_the_repository(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    sources(root, {"d/a.csv": "a\n1\n", "d/.hidden": "x", "d/sub/b.csv": "a\n2\n"})
    found, formats = datareaders.workspace_sources(root, "d", "auto")
    assert [s.name for s in found] == ["d/a.csv", "d/sub/b.csv"] and formats == ["csv", "csv"]
    (tmp_path / "secret.csv").write_text("a\n1\n")
    (root / "leak.csv").symlink_to(tmp_path / "secret.csv")
    with pytest.raises(BadInput, match="'leak.csv' leads outside the repository"):
        datareaders.workspace_sources(root, "leak.csv", "auto")
    with pytest.raises(BadInput, match="nope: no such file or directory in the workspace"):
        datareaders.workspace_sources(root, "nope", "auto")
    outside, _ = datareaders.outside_sources("../secret.csv", tmp_path / "secret.csv", "auto")
    assert [s.name for s in outside] == ["../secret.csv"]

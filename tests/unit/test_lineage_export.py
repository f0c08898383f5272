"""The pieces of `gitml lineage` that need no repository: run ids, remote URLs as namespaces."""

from __future__ import annotations

import uuid

import pytest

from gitml.lineage_export import Origin, run_id, without_credentials


def test_run_ids_are_uuids_of_commit_and_stage() -> None:
    a = run_id("a" * 40, "train")
    assert uuid.UUID(a).version == 5
    assert a == run_id("a" * 40, "train")
    assert len({a, run_id("b" * 40, "train"), run_id("a" * 40, "prepare")}) == 3


@pytest.mark.parametrize(
    "url, clean",
    [
        ("https://alice:s3cret@git.example.com/org/x.git", "https://git.example.com/org/x.git"),
        ("https://token@git.example.com/org/x.git", "https://git.example.com/org/x.git"),
        ("ssh://git:pw@host/org/x.git", "ssh://git@host/org/x.git"),
        ("git@github.com:org/x.git", "git@github.com:org/x.git"),
        ("/srv/git/x.git", "/srv/git/x.git"),
    ],
)
def test_remote_urls_lose_their_credentials(url: str, clean: str) -> None:
    assert without_credentials(url) == clean


@pytest.mark.parametrize(
    "namespace, uri",
    [
        ("https://git.example.com/org/x.git", "https://git.example.com/org/x.git/"),
        ("git@github.com:org/x.git", "ssh://git@github.com/org/x.git/"),
        ("/srv/git/x y.git", "file:///srv/git/x%20y.git/"),
        ("gitml://x", "gitml://x/"),
    ],
)
def test_prov_namespace_is_a_uri(namespace: str, uri: str) -> None:
    prov_document = pytest.importorskip("gitml.prov_document")
    assert prov_document.repository_uri(Origin(namespace, None)) == uri

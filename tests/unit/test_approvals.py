"""gitml/approvals.py, in process: tag names, signed fields, allowed signers, four eyes.
(Signing and `git verify-tag` with real keys: tests/test_approvals.py, slow.)"""

from __future__ import annotations

from gitml import approvals
from gitml.approvals import Approval, Judgement

COMMIT = "a" * 40


def test_tag_names_have_no_gto_separators_and_one_per_approver() -> None:
    name = approvals.tag_name("pipelines/nlp:nb", "v1.2.0", "production", "Alice O'Hara@x.org")
    assert name == "gitml-approval/production/pipelines/nlp=nb/v1.2.0/Alice-O-Hara-at-x.org"
    assert "@" not in name and "#" not in name
    other = approvals.tag_name("pipelines/nlp:nb", "v1.2.0", "production", "bob@x.org")
    assert other != name


def test_the_message_signs_model_version_stage_and_commit() -> None:
    text = approvals.message("wine", "v0.0.2", "production", COMMIT, "looked at it")
    assert approvals._fields(text) == {
        "model": "wine",
        "version": "v0.0.2",
        "stage": "production",
        "commit": COMMIT,
    }
    assert approvals._fields("another tag\n\nmodel: wine\n") == {}


def test_allowed_principals_reads_the_first_field_and_skips_comments() -> None:
    signers = (
        b"# the team\n"
        b"alice@x.org ssh-ed25519 AAAA\n"
        b'bob@x.org,robert@x.org valid-before="20270101" ssh-ed25519 BBBB\n'
        b"\n"
    )
    assert approvals.allowed_principals(signers) == ["alice@x.org", "bob@x.org", "robert@x.org"]


def _judged(*signers: str, required: int = 2) -> Judgement:
    result = Judgement("wine", "v0.0.2", "production", COMMIT, required)
    result.allowed = ["alice@x.org", "bob@x.org", "carol@x.org"]
    for who in signers:
        result.counted.append(
            Approval(f"t/{who}", "wine", "v0.0.2", "production", COMMIT, 0, signer=who)
        )
    return result


def test_required_distinct_signers_and_who_is_missing() -> None:
    one = _judged("alice@x.org")
    assert not one.approved
    assert one.missing() == "approved by alice@x.org; 1 more needed from: bob@x.org, carol@x.org"
    assert _judged("alice@x.org", "alice@x.org").signers == ["alice@x.org"]
    assert _judged("alice@x.org", "bob@x.org").approved


def test_the_promoters_own_approval_does_not_count_alone() -> None:
    alone = _judged("alice@x.org", required=1)
    assert approvals.four_eyes(alone, "alice@x.org") is not None
    assert approvals.four_eyes(alone, "bob@x.org") is None
    assert approvals.four_eyes(_judged("alice@x.org", "bob@x.org"), "alice@x.org") is None


def test_the_stage_below_follows_the_configured_order() -> None:
    order = ("dev", "staging", "production")
    assert approvals.stage_below(order, "production") == "staging"
    assert approvals.stage_below(order, "dev") is None
    assert approvals.stage_below((), "production") is None

"""Tests for annotator.ingest.plaintext and meta: the seed article and metadata lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from annotator.ingest import parse_document, parse_text
from annotator.ingest.meta import parse_byline, parse_credit_line, parse_date, parse_dateline

SEED = (
    Path(__file__).parents[1].parent / "shared" / "seed" / "dw-2014-north-korea-envoy-to-russia.txt"
)


@pytest.fixture
def seed():
    if not SEED.is_file():
        pytest.skip(f"seed article not found at {SEED} (the shared folder is not mounted)")
    return parse_document(SEED.read_bytes(), SEED.name)[0]


def _texts(article, kind: str) -> list[str]:
    return [article.text[u.start : u.end] for u in article.units if u.kind == kind]


def test_seed_metadata(seed) -> None:
    assert seed.title == "North Korea envoy to Russia"
    assert seed.published == "2014-11-14"
    assert seed.credits == ["AFP", "AP"]
    assert _texts(seed, "title") == ["North Korea envoy to Russia"]
    assert _texts(seed, "heading") == ["Renewed relations"]


def test_seed_sentences(seed) -> None:
    sentences = _texts(seed, "sentence")
    assert len(sentences) == 12
    assert sentences[0].startswith("Choe Ryong Hae, a top Communist Party official")
    assert sentences[1] == "The specific purpose behind the meeting remains unclear."
    assert sentences[2].startswith("Kim Jong Un plans to send a special envoy")
    assert sentences[5].startswith("During the Soviet period")
    assert sentences[7].startswith("The North's ties with China")
    assert sentences[11].startswith("The resolution came as a result")
    quote = sentences[9]
    assert quote.startswith('"Russia could be looking')
    assert quote.endswith("told the news agency AP.")


def test_seed_furniture_removed(seed) -> None:
    for junk in ("Skip to", "Choe Ryong-hae", "picture-alliance", "ksb/mkg", "November 14", "DW"):
        assert junk not in seed.text
    # Reading order: title, lead, body with the heading before its paragraph.
    kinds = [u.kind for u in seed.units]
    assert kinds[0] == "title" and kinds.index("heading") == 6


def test_dateline_stays_in_text() -> None:
    art = parse_text(
        "Senate passes bill\n\nBy Jane Doe and John Roe, AP\n\n"
        "WASHINGTON (AP) — The Senate passed the bill on Friday. It now goes to the House.\n\n"
        "The vote was 77-13.\n\n— Reuters"
    )
    assert art.title == "Senate passes bill"
    assert art.byline == "Jane Doe and John Roe"
    assert art.dateline == "WASHINGTON"
    assert art.credits == ["AP", "Reuters"]
    first = art.units[1]
    assert (
        art.text[first.start : first.end]
        == "WASHINGTON (AP) — The Senate passed the bill on Friday."
    )
    assert "Reuters" not in art.text and "By Jane" not in art.text


def test_hard_wrapped_paragraph_is_joined() -> None:
    art = parse_text(
        "Title line\n\nThe minister said the plan\nwould cost 3.5 billion\neuros. He left."
    )
    assert (
        art.text
        == "Title line\n\nThe minister said the plan would cost 3.5 billion euros. He left."
    )
    assert [u.kind for u in art.units] == ["title", "sentence", "sentence"]


def test_caption_and_credit_removed_and_trailing_short_line_kept() -> None:
    art = parse_text(
        "A headline here\n\nFirst paragraph of the story.\n\n"
        "The minister\nPhoto: Jane Doe/Getty Images\n\n"
        "Second paragraph.\n\nShare this article\nAdvertisement\nRead more: Other story\n\nThe end"
    )
    assert art.text == (
        "A headline here\n\nFirst paragraph of the story.\n\nSecond paragraph.\n\nThe end"
    )
    assert [u.kind for u in art.units] == ["title", "sentence", "sentence", "sentence"]


def test_given_title_is_not_searched_for() -> None:
    art = parse_text("Short line\n\nA sentence here.", title="Given title")
    assert art.title == "Given title"
    assert art.text == "Given title\n\nShort line\n\nA sentence here."
    assert [u.kind for u in art.units] == ["title", "heading", "sentence"]


@pytest.mark.parametrize(
    ("line", "iso"),
    [
        ("November 14, 2014", "2014-11-14"),
        ("14.11.2014", "2014-11-14"),
        ("2014-11-14", "2014-11-14"),
        ("Nov. 14, 2014", "2014-11-14"),
        ("Sept. 3, 2019", "2019-09-03"),
        ("Friday, November 14, 2014 10:03 GMT", "2014-11-14"),
        ("14 November 2014", "2014-11-14"),
        ("Updated 10:14 PM UTC, March 1, 2024", None),
        ("Published: 2024-03-01T22:14:05Z", "2024-03-01"),
        ("31.02.2014", None),
        ("The vote was on November 14, 2014.", None),
    ],
)
def test_parse_date(line: str, iso: str | None) -> None:
    assert parse_date(line) == iso


@pytest.mark.parametrize(
    ("line", "credits"),
    [
        ("ksb/mkg (AFP, AP)", ["AFP", "AP"]),
        ("jsi/rc (Reuters, dpa)", ["Reuters", "dpa"]),
        ("(AP)", ["AP"]),
        ("dpa/rtr", ["dpa", "Reuters"]),
        ("— Reuters", ["Reuters"]),
        ("ksb/mkg", []),
        ("He said (quietly) no.", None),
        ("and/or", None),
    ],
)
def test_parse_credit_line(line: str, credits: list[str] | None) -> None:
    assert parse_credit_line(line) == credits


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("WASHINGTON (AP) — The Senate voted.", ("WASHINGTON", "AP")),
        ("BERLIN, Nov 14 (Reuters) - Orders rose.", ("BERLIN", "Reuters")),
        ("SEOUL, Nov. 14 (Yonhap) -- North Korea said.", ("SEOUL", "Yonhap")),
        ("UNITED NATIONS — The council met.", ("UNITED NATIONS", None)),
        ("NOTE: this is not one.", None),
        ("The Senate voted (AP) — today.", None),
    ],
)
def test_parse_dateline(text: str, expected: tuple[str, str | None] | None) -> None:
    assert parse_dateline(text) == expected


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("By Jane Doe", ("Jane Doe", [])),
        ("By Jane Doe and John Roe, AP", ("Jane Doe and John Roe", ["AP"])),
        ("By the way, this is not a byline", None),
    ],
)
def test_parse_byline(line: str, expected: tuple[str, list[str]] | None) -> None:
    assert parse_byline(line) == expected

"""Public entry points: uploaded bytes or pasted text to ParsedArticle objects."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import PurePath
from typing import Any

import orjson

from .blocks import Extracted
from .decode import decode_bytes, normalise_text
from .html import extract_html
from .meta import parse_date
from .parsed import IngestError, ParsedArticle, ParsedUnit
from .plaintext import extract_plaintext
from .segment import cap_span, split_sentences

TEXT_EXTENSIONS = (".txt", ".text", ".md")
HTML_EXTENSIONS = (".html", ".htm")
_JSON_FIELDS = ("text", "title", "url", "published", "byline", "credits")
_LINE_BREAK = re.compile(r"\s*\n\s*")
# Widths of the article's metadata columns (models.Article). Ingest keeps to them so
# that no database refuses a parsed article: metadata the user gave is refused when
# longer, metadata found in a page is shortened (a URL is dropped).
TITLE_MAX = 1000
BYLINE_MAX = 1000
DATELINE_MAX = 200
URL_MAX = 2000
_URL = re.compile(r"https?://[^\s/?#]+[^\s]*", re.IGNORECASE)


def parse_document(
    data: bytes, filename: str, *, max_bytes: int | None = None
) -> list[ParsedArticle]:
    """Parse one uploaded file into articles, choosing the reader by file extension."""
    ext = PurePath(filename).suffix.lower()
    if ext not in TEXT_EXTENSIONS + HTML_EXTENSIONS + (".json", ".jsonl"):
        shown = ext or "(none)"
        raise IngestError(f"unsupported file type {shown}; use .txt, .html, .json or .jsonl")
    text = decode_bytes(data, max_bytes=max_bytes)
    if ext in TEXT_EXTENSIONS:
        return [parse_text(text)]
    if ext in HTML_EXTENSIONS:
        return [parse_html(text)]
    if ext == ".json":
        try:
            value = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            raise IngestError(f"invalid JSON: {exc}") from None
        items = value if isinstance(value, list) else [value]
        if not items:
            raise IngestError("the JSON list holds no articles")
        return [_article_from_json(item, n) for n, item in enumerate(items, start=1)]
    return list(_parse_jsonl(text))


def _parse_jsonl(text: str) -> Iterable[ParsedArticle]:
    """One article per non-blank line; errors name the line."""
    found = False
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise IngestError(f"line {lineno}: invalid JSON: {exc}") from None
        found = True
        yield _article_from_json(value, lineno, what="line")
    if not found:
        raise IngestError("article is empty")


def _article_from_json(item: Any, n: int, *, what: str = "item") -> ParsedArticle:
    """Validate one JSON article object and parse it."""
    where = f"{what} {n}"
    if not isinstance(item, dict):
        raise IngestError(f"{where}: expected an object with a 'text' field")
    text = item.get("text")
    if not isinstance(text, str) or not text.strip():
        raise IngestError(f"{where}: 'text' must be a non-empty string")
    for key in ("title", "url", "published", "byline"):
        if item.get(key) is not None and not isinstance(item[key], str):
            raise IngestError(f"{where}: '{key}' must be a string")
    credits = item.get("credits")
    if credits is not None and (
        not isinstance(credits, list) or not all(isinstance(c, str) for c in credits)
    ):
        raise IngestError(f"{where}: 'credits' must be a list of strings")
    try:
        return parse_text(
            text,
            title=item.get("title"),
            url=item.get("url"),
            published=item.get("published"),
            byline=item.get("byline"),
            credits=credits,
        )
    except IngestError as exc:
        raise IngestError(f"{where}: {exc}") from None


def parse_text(
    text: str,
    *,
    title: str | None = None,
    url: str | None = None,
    published: str | None = None,
    byline: str | None = None,
    credits: list[str] | None = None,
) -> ParsedArticle:
    """Parse pasted plain text; given metadata wins over what is detected in the text."""
    given_title = _clean_field(title)
    ex = extract_plaintext(normalise_text(text), detect_title=given_title is None)
    return build_article(
        ex, title=given_title, url=url, published=published, byline=byline, credits=credits
    )


def parse_html(html: str) -> ParsedArticle:
    """Parse an HTML page (already decoded) into an article."""
    return build_article(extract_html(normalise_text(html)))


def _clean_field(value: str | None) -> str | None:
    """A metadata string on one line, normalised like the text; None when blank."""
    if value is None:
        return None
    value = normalise_text(value, allow_empty=True)
    return _LINE_BREAK.sub(" ", value).strip() or None


def check_url(url: str | None) -> str | None:
    """The URL if it is http(s), None if blank; anything else raises IngestError."""
    url = _clean_field(url)
    if url is None:
        return None
    if not _URL.fullmatch(url):
        raise IngestError("url must start with http:// or https://")
    _check_length("url", url, URL_MAX)
    return url


def build_article(
    ex: Extracted,
    *,
    title: str | None = None,
    url: str | None = None,
    published: str | None = None,
    byline: str | None = None,
    credits: list[str] | None = None,
) -> ParsedArticle:
    """Lay the blocks out as canonical text and cut it into units."""
    iso = None
    if published is not None and published.strip():
        iso = parse_date(published)
        if iso is None:
            shown = published if len(published) <= 40 else published[:39] + "…"
            raise IngestError(f"published must be a date like 2014-11-14, not {shown!r}")
    given_byline = _clean_field(byline)
    if title is not None:
        _check_length("title", title, TITLE_MAX)
    if given_byline is not None:
        _check_length("byline", given_byline, BYLINE_MAX)
    all_credits: list[str] = []
    for name in [*(credits or []), *ex.credits]:
        name = _clean_field(name) or ""
        if name and name not in all_credits:
            all_credits.append(name)

    blocks = ex.blocks
    if title is not None:
        # A given title replaces any detected one and is not looked for in the text.
        blocks = [("title", title), *((b.kind, b.text) for b in blocks if b.kind != "title")]
    else:
        blocks = [(b.kind, b.text) for b in blocks]
        title = ex.title

    parts: list[str] = []
    units: list[ParsedUnit] = []
    pos = 0
    for kind, raw in blocks:
        body = _LINE_BREAK.sub(" ", raw).strip()
        if not body:
            continue
        if parts:
            pos += 2  # the "\n\n" between blocks
        spans = split_sentences(body) if kind == "paragraph" else cap_span(body, 0, len(body))
        unit_kind = "sentence" if kind == "paragraph" else kind
        units.extend(ParsedUnit(unit_kind, pos + a, pos + b) for a, b in spans)
        parts.append(body)
        pos += len(body)
    if not any(u.kind == "sentence" for u in units):
        raise IngestError("no article text left after removing navigation and page furniture")
    if url is not None:
        found_url = check_url(url)
    else:
        # A page's own URL that is odd or too long is left out, not refused.
        found_url = check_url(ex.url) if _safe(ex.url) and len(ex.url or "") <= URL_MAX else None
    return ParsedArticle(
        text="\n\n".join(parts),
        units=units,
        title=_shorten(title, TITLE_MAX),
        byline=given_byline or _shorten(ex.byline, BYLINE_MAX),
        dateline=_shorten(ex.dateline, DATELINE_MAX),
        published=iso or ex.published,
        url=found_url,
        credits=all_credits,
    )


def _check_length(what: str, value: str, limit: int) -> None:
    """Refuse metadata the user gave that is longer than its column."""
    if len(value) > limit:
        raise IngestError(f"{what} must be at most {limit:,} characters, not {len(value):,}")


def _shorten(value: str | None, limit: int) -> str | None:
    """Metadata found in the text, cut to its column with an ellipsis."""
    if value is None or len(value) <= limit:
        return value
    return value[: limit - 1].rstrip() + "…"


def _safe(url: str | None) -> bool:
    """Whether a URL found in a page is usable (pages may carry relative or odd URLs)."""
    return url is not None and bool(_URL.fullmatch(url.strip()))

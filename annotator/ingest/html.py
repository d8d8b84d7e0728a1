"""HTML page to title, heading and paragraph blocks plus metadata.

Library choice, measured with ``python bench/split.py --html`` on the five pages in
tests/data/ingest/html/ (figures in docs/ingest.md): selectolax (lexbor) plus the
rules below kept every expected paragraph and heading and dropped the furniture
at about 0.6 ms a page. trafilatura came closest (score 0.99) but dropped a
DW-style lead paragraph (the "teaser" that holds an article's first sentences)
and took 3-11 ms a page; readability-lxml kept captions and ads (0.97);
jusText needs long pages (0.33 with defaults, 0.86 tuned). Our rules were written
beside those pages, so their perfect score is optimistic. selectolax is maintained
and parses any byte soup without raising; the rules stay small: drop furniture,
pick the element holding the most paragraph text, read its blocks in order.
"""

from __future__ import annotations

import re

import orjson
from selectolax.lexbor import LexborHTMLParser, LexborNode

from .blocks import Block, Extracted
from .meta import parse_byline, parse_date
from .parsed import IngestError
from .plaintext import Candidate, classify

# Parts of a page that never hold article text.
_DROP = (
    "script, style, noscript, template, iframe, svg, math, nav, aside, footer, header, form, "
    "figure, figcaption, button, select, textarea, object, embed, video, audio, canvas, dialog"
)
# class/id fragments of furniture containers (cookie banners, share bars, ...).
_NOISE_SUBSTR = re.compile(
    r"cookie|consent|onetrust|share|social|related|newsletter|signup|sign-up|advert|"
    r"comment|sidebar|caption|byline|promo|paywall|breadcrumb|read-next|readnext|"
    r"recommend|outbrain|taboola",
    re.IGNORECASE,
)
_NOISE_TOKEN = re.compile(
    r"(?:^|[\s_-])(?:ad|ads|ad-slot|more|meta|tags|author|autor|skip|menu|nav|widget|"
    r"trust|sign-off|teaser-box|toolbar|actions)(?:$|[\s_-])",
    re.IGNORECASE,
)
_KEEP_TAGS = frozenset({"html", "head", "body", "main", "article"})
_BLOCK_TAGS = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre"})
_CONTAINER_TAGS = _BLOCK_TAGS | {"div", "section", "ul", "ol", "table", "article", "main", "dl"}
_HEADING_TAGS = frozenset({"h2", "h3", "h4", "h5", "h6"})
_WS = re.compile(r"\s+")
_TITLE_SUFFIX = re.compile(r"\s+(?:\||::|–|—|-)\s+[^|]{1,60}$")


def extract_html(html: str) -> Extracted:
    """Blocks and metadata from an HTML page; malformed markup only ever raises IngestError."""
    try:
        tree = LexborHTMLParser(html)
        ex = _metadata(tree)
        candidates = _body_candidates(tree)
    except IngestError:
        raise
    except Exception as exc:  # noqa: BLE001 - a parser bug must not become a 500
        raise IngestError(f"could not read this HTML page ({type(exc).__name__})") from None
    if ex.title is None:
        # Without a title in the markup, the first short line may still be one.
        body = classify(candidates, detect_title=True)
    else:
        body = classify(candidates, detect_title=False)
        body.title = ex.title
        body.blocks.insert(0, Block("title", ex.title))
    body.byline = ex.byline or body.byline
    body.published = ex.published or body.published
    body.url = ex.url
    credits = body.credits
    body.credits = []
    body.add_credits([*credits, *ex.credits])
    return body


def _text(node: LexborNode) -> str:
    return _WS.sub(" ", node.text(deep=True, separator="")).strip()


def _attr(tree: LexborHTMLParser, selector: str, name: str) -> str | None:
    node = tree.css_first(selector)
    value = node.attributes.get(name) if node is not None else None
    return value.strip() if value and value.strip() else None


def _jsonld(tree: LexborHTMLParser) -> list[dict]:
    """NewsArticle-like objects from JSON-LD scripts (invalid JSON is ignored)."""
    found: list[dict] = []
    for node in tree.css('script[type="application/ld+json"]'):
        try:
            data = orjson.loads(node.text(deep=True) or "null")
        except orjson.JSONDecodeError:
            continue
        stack = data if isinstance(data, list) else [data]
        for item in stack[:50]:
            if isinstance(item, dict):
                found.append(item)
                graph = item.get("@graph")
                if isinstance(graph, list):
                    found.extend(g for g in graph[:50] if isinstance(g, dict))
    return found


def _metadata(tree: LexborHTMLParser) -> Extracted:
    """Title, byline, publication date, canonical URL and credits from head and header."""
    ex = Extracted()
    ld = [i for i in _jsonld(tree) if "headline" in i or "datePublished" in i]
    title = _attr(tree, 'meta[property="og:title"]', "content")
    if title is None and (h1 := tree.css_first("h1")) is not None:
        title = _text(h1) or None
    if title is None and (t := tree.css_first("title")) is not None:
        title = _TITLE_SUFFIX.sub("", _text(t)) or None
    ex.title = _WS.sub(" ", title).strip() if title else None

    for selector in (
        '[class*="byline"]',
        '[class*="author"]',
        '[class*="autor"]',
        '[rel="author"]',
    ):
        node = tree.css_first(selector)
        if node is not None:
            # "By Lena Example | 14.06.2022": the byline is the part before a separator.
            text = _text(node).split("|")[0].strip()
            parsed = parse_byline(text) or parse_byline(f"By {text}")
            if parsed:
                ex.byline = parsed[0]
                ex.add_credits(parsed[1])
                break
    if ex.byline is None:
        persons = [a for i in ld for a in _authors(i)]
        if persons:
            ex.byline = " and ".join(n for n, kind in persons if kind == "Person") or None
        else:
            ex.byline = _attr(tree, 'meta[name="author"]', "content")

    dates = [
        _attr(tree, 'meta[property="article:published_time"]', "content"),
        _attr(tree, 'meta[name="article:published_time"]', "content"),
        *(i.get("datePublished") for i in ld),
        _attr(tree, "time[datetime]", "datetime"),
        *(_text(n) for n in tree.css('[class*="date"]')[:5]),
    ]
    for value in dates:
        if isinstance(value, str) and (iso := parse_date(value)):
            ex.published = iso
            break

    url = _attr(tree, 'link[rel="canonical"]', "href") or _attr(
        tree, 'meta[property="og:url"]', "content"
    )
    ex.url = url if url and re.match(r"https?://", url, re.IGNORECASE) else None
    return ex


def _authors(item: dict) -> list[tuple[str, str]]:
    """(name, @type) pairs of a JSON-LD object's authors."""
    raw = item.get("author")
    raw = raw if isinstance(raw, list) else [raw]
    return [
        (a["name"].strip(), str(a.get("@type", "Person")))
        for a in raw
        if isinstance(a, dict) and isinstance(a.get("name"), str) and a["name"].strip()
    ]


def _is_noise(node: LexborNode) -> bool:
    if node.tag in _KEEP_TAGS:
        return False
    attrs = node.attributes
    label = f"{attrs.get('class') or ''} {attrs.get('id') or ''} {attrs.get('role') or ''}"
    if not label.strip():
        return False
    return bool(_NOISE_SUBSTR.search(label) or _NOISE_TOKEN.search(label))


def _body_candidates(tree: LexborHTMLParser) -> list[Candidate]:
    """Body blocks in reading order from the element that holds most paragraph text."""
    for br in tree.css("br"):
        br.replace_with(" ")  # "line<br>line" must not glue words together
    for node in tree.css(_DROP):
        node.decompose()
    for node in tree.css("[class], [id], [role]"):
        if _is_noise(node):
            node.decompose()
    root = _pick_root(tree)
    if root is None:
        return []
    out: list[Candidate] = []
    _walk(root, out)
    return out


def _pick_root(tree: LexborHTMLParser) -> LexborNode | None:
    """The parent of the most paragraph text (readability's core idea, without the rest)."""
    scores: dict[int, tuple[int, LexborNode]] = {}
    for node in tree.css("p, div, td, blockquote"):
        if node.tag != "p" and _has_block_child(node):
            continue
        length = len(_text(node))
        if length < 25:
            continue
        parent = node.parent
        if parent is not None and parent.tag == "blockquote" and parent.parent is not None:
            parent = parent.parent  # a quoted paragraph still belongs to the story
        if parent is not None:
            key = parent.mem_id
            scores[key] = (scores.get(key, (0, parent))[0] + length, parent)
    if not scores:
        return tree.body
    return max(scores.values(), key=lambda s: s[0])[1]


def _has_block_child(node: LexborNode) -> bool:
    return any(child.tag in _CONTAINER_TAGS for child in node.iter())


def _walk(node: LexborNode, out: list[Candidate]) -> None:
    """Append the text blocks under ``node`` in document order."""
    # Loose text and inline elements between blocks form a paragraph of their own
    # (old layouts and misnested tags leave article text outside any <p>).
    run: list[str] = []

    def flush() -> None:
        text = _WS.sub(" ", "".join(run)).strip()
        run.clear()
        if text:
            out.append(Candidate(text, "paragraph"))

    for child in node.iter(include_text=True):
        tag = child.tag
        if tag == "-text":
            run.append(child.text_content or "")
            continue
        if tag == "h1":
            flush()
            continue  # the title, taken from the metadata
        if tag in _BLOCK_TAGS and not (tag in ("li", "blockquote") and _has_block_child(child)):
            flush()
            text = _text(child)
            if text:
                out.append(Candidate(text, "heading" if tag in _HEADING_TAGS else "paragraph"))
        elif tag in _CONTAINER_TAGS or tag in ("td", "tr", "tbody", "thead", "center", "dd"):
            flush()
            if _has_block_child(child):
                _walk(child, out)
            elif text := _text(child):
                out.append(Candidate(text, "paragraph"))
        elif _has_block_child(child):
            flush()  # an inline element the parser wrapped around blocks
            _walk(child, out)
        else:
            run.append(child.text(deep=True, separator=""))
    flush()

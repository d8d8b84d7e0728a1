"""The built-in registry of wire agencies (and a few outlets) and one regex to find them all."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from .model import FoundSource
from .names import name_key, normalise_name

# (canonical, aliases, country). Names prefixed with "?" are ambiguous (an ordinary word, a
# party or another acronym) and count only in an agency context.
_AGENCIES: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("AP", ("Associated Press", "The Associated Press"), "United States"),
    ("AFP", ("Agence France-Presse", "Agence France Presse"), "France"),
    ("Reuters", ("Thomson Reuters",), "United Kingdom"),
    ("dpa", ("Deutsche Presse-Agentur", "DPA"), "Germany"),
    ("KCNA", ("Korean Central News Agency",), "North Korea"),
    ("Yonhap", ("Yonhap News Agency",), "South Korea"),
    ("Xinhua", ("Xinhua News Agency", "New China News Agency"), "China"),
    ("Kyodo", ("Kyodo News",), "Japan"),
    ("Jiji", ("Jiji Press",), "Japan"),
    ("TASS", ("ITAR-TASS", "Russian News Agency TASS"), "Russia"),
    ("RIA Novosti", ("?RIA",), "Russia"),
    ("Interfax", (), "Russia"),
    ("ANSA", ("Agenzia Nazionale Stampa Associata",), "Italy"),
    ("EFE", ("Agencia EFE",), "Spain"),
    ("?PTI", ("Press Trust of India",), "India"),
    ("?AAP", ("Australian Associated Press",), "Australia"),
    ("?UPI", ("United Press International",), "United States"),
    ("?Anadolu", ("Anadolu Agency", "Anadolu Ajansi"), "Turkey"),
    ("IRNA", ("Islamic Republic News Agency",), "Iran"),
    ("KUNA", ("Kuwait News Agency",), "Kuwait"),
    ("?WAM", ("Emirates News Agency",), "United Arab Emirates"),
    ("?SPA", ("Saudi Press Agency",), "Saudi Arabia"),
    ("?MENA", ("Middle East News Agency",), "Egypt"),
    ("Bernama", ("Malaysian National News Agency",), "Malaysia"),
    ("?Antara", ("Antara News Agency",), "Indonesia"),
    ("?CNA", ("Central News Agency",), "Taiwan"),
    ("?Lusa", ("Agência Lusa", "Agencia Lusa"), "Portugal"),
    ("?PAP", ("Polish Press Agency", "Polska Agencja Prasowa"), "Poland"),
    ("?CTK", ("ČTK", "Czech News Agency"), "Czech Republic"),
    ("?MTI", ("Hungarian News Agency", "Magyar Távirati Iroda"), "Hungary"),
    ("?BTA", ("Bulgarian News Agency",), "Bulgaria"),
    ("?ANP", ("Algemeen Nederlands Persbureau",), "Netherlands"),
    ("Belga", (), "Belgium"),
    ("?NTB", ("Norsk Telegrambyrå",), "Norway"),
    ("?TT", ("Tidningarnas Telegrambyrå",), "Sweden"),
    ("Ritzau", ("Ritzaus Bureau",), "Denmark"),
    ("?STT", ("STT-FNB", "Finnish News Agency"), "Finland"),
    ("?APA", ("Austria Presse Agentur",), "Austria"),
    ("Keystone-SDA", ("?SDA", "Swiss News Agency"), "Switzerland"),
    ("?epd", ("Evangelischer Pressedienst",), "Germany"),
    ("?KNA", ("Katholische Nachrichten-Agentur",), "Germany"),
    ("Ukrinform", (), "Ukraine"),
    ("BelTA", ("Belarusian Telegraph Agency",), "Belarus"),
    ("Kazinform", (), "Kazakhstan"),
    ("?QNA", ("Qatar News Agency",), "Qatar"),
    ("?Petra", ("Jordan News Agency",), "Jordan"),
    ("?SANA", ("Syrian Arab News Agency",), "Syria"),
    ("Tanjug", (), "Serbia"),
    ("?Hina", ("Croatian News Agency",), "Croatia"),
    ("ANA-MPA", ("Athens-Macedonian News Agency",), "Greece"),
    ("Agerpres", (), "Romania"),
    ("?NAN", ("News Agency of Nigeria",), "Nigeria"),
    ("Notimex", (), "Mexico"),
    ("Prensa Latina", (), "Cuba"),
    ("?Bloomberg", ("Bloomberg News",), "United States"),
    ("?WAFA", ("Palestinian News and Information Agency",), "Palestinian territories"),
    ("?ANI", ("Asian News International",), "India"),
    ("IANS", ("Indo-Asian News Service",), "India"),
    ("?APP", ("Associated Press of Pakistan",), "Pakistan"),
    ("?PNA", ("Philippine News Agency",), "Philippines"),
    ("?VNA", ("Vietnam News Agency",), "Vietnam"),
    ("?Fars", ("Fars News Agency",), "Iran"),
    ("Tasnim", ("Tasnim News Agency",), "Iran"),
    ("?ISNA", ("Iranian Students' News Agency",), "Iran"),
    ("?MAP", ("Maghreb Arabe Presse",), "Morocco"),
    ("?APS", ("Algeria Press Service",), "Algeria"),
    ("Armenpress", (), "Armenia"),
    ("Azertac", ("AZERTAC",), "Azerbaijan"),
    ("?Sputnik", (), "Russia"),
)

# Outlets are sources only when they speak or relay ("told the BBC"), never by a mere mention.
_OUTLETS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("BBC", ("British Broadcasting Corporation",)),
    ("CNN", ()),
    ("Al Jazeera", ()),
    ("NHK", ()),
    ("DW", ("Deutsche Welle",)),
    ("Rodong Sinmun", ()),
    ("The New York Times", ("New York Times",)),
    ("The Washington Post", ("Washington Post",)),
    ("The Wall Street Journal", ("Wall Street Journal",)),
    ("Financial Times", ()),
    ("The Guardian", ()),
    ("Der Spiegel", ("Spiegel",)),
    ("Le Monde", ()),
    ("Fox News", ()),
    ("Sky News", ()),
    ("CCTV", ()),
    ("Global Times", ()),
    ("Yomiuri Shimbun", ()),
    ("Asahi Shimbun", ()),
    ("Nikkei", ()),
    ("Chosun Ilbo", ()),
    ("JoongAng Ilbo", ()),
    ("South China Morning Post", ()),
    ("Kommersant", ()),
    ("Izvestia", ()),
    ("Haaretz", ()),
)


@dataclass(frozen=True, slots=True)
class Entry:
    """One spelling in the built-in registry and what it stands for."""

    source: FoundSource
    needs_context: bool


def _build() -> tuple[tuple[FoundSource, ...], dict[str, Entry], dict[str, Entry]]:
    agencies = []
    by_spelling: dict[str, Entry] = {}
    for canonical, aliases, country in _AGENCIES:
        name = canonical.lstrip("?")
        clean = tuple(a.lstrip("?") for a in aliases)
        src = FoundSource(name, "news_agency", clean, f"news agency ({country})")
        agencies.append(src)
        for spelling in (canonical, *aliases):
            by_spelling[spelling.lstrip("?")] = Entry(src, spelling.startswith("?"))
    for canonical, aliases in _OUTLETS:
        src = FoundSource(canonical, "media_outlet", aliases, None)
        for spelling in (canonical, *aliases):
            by_spelling[spelling] = Entry(src, True)
    by_key = {normalise_name(s): e for s, e in by_spelling.items()}
    return tuple(agencies), by_spelling, by_key


BUILTIN_AGENCIES, BY_SPELLING, _BY_KEY = _build()


def trie_alternation(words: Iterable[str]) -> str:
    """Build a trie-shaped alternation so the regex engine branches on the first character."""
    trie: dict = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict) -> str:
        ends = "" in node
        branches = [re.escape(ch) + emit(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if ends else body

    return emit(trie)


# Case-sensitive on purpose: "AP" is the agency, "ap" inside a word is not.
AGENCY_RE = re.compile(r"(?<![\w-])" + trie_alternation(BY_SPELLING) + r"(?![\w-])")

# Contexts in which even an ambiguous short name is an agency.
_BEFORE_CONTEXT = re.compile(
    r"(?:(?:news|press|wire)\s+agency|agency|told|according\s+to|citing|quoted\s+by|"
    r"reported\s+by|carried\s+by|interview\s+with|speaking\s+to|[(/]|\(\s*[^()]{0,40}[,/])"
    r"\s*(?:the\s+)?$"
)
_AFTER_CONTEXT = re.compile(
    r"\s*(?:[)/,]|(?:news|press|wire)\s+agency|agency|(?:has\s+|had\s+|also\s+)?"
    r"(?:reported|reports|said|says|quoted|cited|carried|wrote|added)\b)"
)


def lookup(name: str) -> Entry | None:
    """Return the built-in entry for a spelling (exact first, then by normalised key)."""
    return BY_SPELLING.get(name) or _BY_KEY.get(name_key(name))


def in_agency_context(text: str, start: int, end: int) -> bool:
    """Tell whether the name at text[start:end] reads as an agency (credit, "news agency X" …)."""
    before = text[max(0, start - 48) : start]
    if _BEFORE_CONTEXT.search(before):
        # "(AFP, TT)" needs the parenthesis closed after the name too.
        if before.rstrip().endswith(("(", ",", "/")):
            return bool(re.match(r"\s*[)/,]", text[end : end + 2]))
        return True
    return bool(_AFTER_CONTEXT.match(text, end, end + 40))

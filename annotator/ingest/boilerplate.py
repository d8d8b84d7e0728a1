"""Recognise page furniture in copied web pages: navigation, share prompts, image credits."""

from __future__ import annotations

import re

# A copied page keeps its navigation as list items ("1. Skip to content").
_LIST_MARKER = re.compile(r"^\s*(?:\d{1,3}[.)]|[-*•·▪►›>])\s+")

# Whole-line patterns (matched case-insensitively after the list marker is gone).
# Each line here is page chrome that no article sentence consists of.
_FURNITURE = re.compile(
    r"""(?:
      skip\ (?:to|next\ section|navigation)\b[^.!?]*
    | (?:jump|go)\ to\ (?:content|main\ content|navigation|top)
    | explore\ more | more\ (?:stories|news|articles|from)\b[^.!?]{0,60}
    | (?:\w+'s\ )?top\ stor(?:y|ies) | most\ (?:read|popular|viewed)
    | (?:accept|reject|manage)\ (?:all\ )?cookies.{0,40}
    | (?:we\ use\ )?cookies?\ (?:settings|policy|preferences|notice)
    | we\ use\ cookies\b.{0,200}
    | share(?:\ (?:this|the)\ (?:article|story|page|post))?(?:\ (?:on|via)\ \w+)?
    | share\ on\ \w+ | tweet(?:\ this)? | email(?:\ this)? | copy\ link | send
    | facebook | twitter | whatsapp | linkedin | telegram | pinterest | reddit | x
    | print(?:\ (?:this\ )?(?:page|article))? | advertisement | advert | ad | sponsored
    | read\ more\b[^.!?]{0,120} | read\ (?:also|next)\b[^.!?]{0,120} | see\ also\b[^.!?]{0,120}
    | related(?:\ (?:stories|articles|content|topics|news|coverage|links))?
    | (?:newsletter|sign[\ -]?up|subscribe)\b[^.!?]{0,80}
    | (?:sign\ up|subscribe)\ (?:to|for)\ (?:our|the)\ newsletter[^.!?]{0,80}
    | follow\ us\ on\b[^.!?]{0,60} | comments?(?:\ \(\d+\))? | show\ comments
    | back\ to\ top | menu | search | home | log\ ?in | sign\ in | close
    | audios?\ and\ videos?\ on\ the\ topic | (?:watch|listen)\ (?:video|audio)\b[^.!?]{0,60}
    | permalink\b[^.!?]{0,120}
    )""",
    re.IGNORECASE | re.VERBOSE,
)

# Image credits: "Image: picture-alliance/AP", "Photo: ...", "(Photo by ...)",
# "© ...", "... /Getty Images".
_IMAGE_CREDIT = re.compile(
    r"""(?:
      (?:images?|photos?|pictures?|picture\ credit|photograph|foto|bild|credit|
         source|video|graphic|illustration)\s*:\s*.{1,120}
    | \((?:photos?|images?|picture)\ (?:by|credit|:)[^()]{1,120}\)
    | (?:©|\(c\)|copyright\b).{0,120}
    | .{0,100}\bgetty\ images\b.{0,60}
    | (?:ap|afp|reuters|dpa|epa)\ (?:photo|images?)\b.{0,100}
    | photo(?:graph)?\ by\ .{1,100}
    )""",
    re.IGNORECASE | re.VERBOSE,
)

_FINAL_PUNCT = ".!?:;,\"'”’)…"


def strip_list_marker(line: str) -> str:
    """The line without a leading '1.' or '-' list marker."""
    return _LIST_MARKER.sub("", line, count=1)


def is_furniture(line: str) -> bool:
    """Whether a whole line is navigation, a cookie or share prompt, or similar chrome."""
    line = line.strip()
    if not line or len(line) > 250:
        return False
    return bool(_FURNITURE.fullmatch(strip_list_marker(line)))


def is_image_credit(line: str) -> bool:
    """Whether a whole line credits a picture ('Image: picture-alliance/AP')."""
    line = line.strip()
    if not line or len(line) > 200:
        return False
    return bool(_IMAGE_CREDIT.fullmatch(line))


def is_caption_like(line: str) -> bool:
    """A short line without final punctuation: a caption when an image credit follows."""
    line = line.strip()
    return 0 < len(line) <= 200 and line[-1] not in _FINAL_PUNCT


def is_heading_like(line: str) -> bool:
    """A short single line that does not end like a sentence."""
    line = line.strip()
    return (
        0 < len(line) <= 120
        and len(line.split()) <= 14
        and line[-1] not in _FINAL_PUNCT
        and any(c.isalpha() for c in line)
    )

"""Head nouns of the phrases that stand for a speaker without naming it.

"officials familiar with the matter", "the company", "South Korea's military": the head
noun tells whether the phrase is an unnamed person (an ``anonymous`` source named by its
description) or an institution (a back-reference to a source of a compatible kind, or a
new source named by the description when the article never names it).
"""

from __future__ import annotations

# Unnamed people: singular stem -> plural spelling (both may head a phrase).
PERSON_HEADS: dict[str, str] = {
    "official": "officials",
    "spokesman": "spokesmen",
    "spokeswoman": "spokeswomen",
    "spokesperson": "spokespeople",
    "source": "sources",
    "diplomat": "diplomats",
    "analyst": "analysts",
    "expert": "experts",
    "observer": "observers",
    "witness": "witnesses",
    "resident": "residents",
    "aide": "aides",
    "lawmaker": "lawmakers",
    "person": "people",
    "insider": "insiders",
    "investor": "investors",
    "economist": "economists",
    "relative": "relatives",
    "negotiator": "negotiators",
    "researcher": "researchers",
    "scientist": "scientists",
    "critic": "critics",
    "activist": "activists",
    "doctor": "doctors",
    "medic": "medics",
    "worker": "workers",
    "employee": "employees",
}
# Institutions named by a common noun: head -> the source kind it stands for.
INSTITUTION_HEADS: dict[str, str] = {
    **dict.fromkeys(
        """ministry government police military army navy embassy authority authorities
        council department office service regulator court prosecutors commission committee
        administration""".split(),
        "government",
    ),
    **dict.fromkeys(
        """company firm group association union federation operator carmaker maker
        manufacturer airline bank club charity institute university organisation
        organization board party coalition alliance""".split(),
        "organization",
    ),
    **dict.fromkeys(["agency"], "news_agency"),
    **dict.fromkeys(
        "newspaper broadcaster magazine channel station television radio outlet daily".split(),
        "media_outlet",
    ),
    **dict.fromkeys(
        "study report survey statement note letter document authors".split(), "document"
    ),
}
# Collective institutions that need no determiner ("Police said", "according to police").
BARE_INSTITUTIONS = frozenset("police authorities".split())
# Documents never become sources by a description alone ("the statement said" after nothing).
NEEDS_ANTECEDENT = frozenset("study report survey statement note letter document authors".split())
# Kinds that a definite institution description may point back at.
COMPATIBLE: dict[str, tuple[str, ...]] = {
    "government": ("government",),
    "organization": ("organization",),
    "news_agency": ("news_agency",),
    "media_outlet": ("media_outlet", "news_agency"),
    "document": ("document",),
}
PERSON_STEMS: dict[str, str] = {
    **{stem: stem for stem in PERSON_HEADS},
    **{plural: stem for stem, plural in PERSON_HEADS.items()},
    "people": "person",
    "persons": "person",
    "officials": "official",
}


def head_stem(head: str) -> str:
    """The singular key of a head noun ("officials" -> "official", "people" -> "person")."""
    return PERSON_STEMS.get(head, head)

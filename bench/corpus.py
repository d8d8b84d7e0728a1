"""A generator of news-like articles for benchmarks (text written for the project).

Sentences are assembled from templates with wire agencies, reporting verbs, direct
quotations, hedges and abbreviations, so splitting, attribution and storage all do
the work they do on real wire copy.
"""

from __future__ import annotations

import random

PEOPLE = [
    "Maria Lindqvist",
    "Omar Haddad",
    "Chen Wei",
    "Aisha Bello",
    "Pavel Novak",
    "Dr. Lucia Ferreira",
    "Gen. Thomas Reed",
    "Sen. Alicia Moreno",
    "Prof. Kenji Sato",
]
ROLES = [
    "a spokeswoman for the ministry",
    "an analyst at the Institute for Security Studies",
    "the head of the regional council",
    "a senior U.S. official",
    "the company's chief executive",
]
AGENCIES = ["AP", "AFP", "Reuters", "dpa", "Yonhap", "Xinhua", "Kyodo", "EFE", "ANSA"]
PLACES = ["Seoul", "Berlin", "Nairobi", "Lima", "Jakarta", "Warsaw", "Cairo", "Ottawa"]
TOPICS = [
    "the new trade agreement",
    "the flood defences",
    "the vaccination campaign",
    "the power grid upgrade",
    "the budget dispute",
    "the border crossing",
    "the rail strike",
]
TEMPLATES = [
    "Officials in {place} confirmed on {day} that {topic} would be delayed by at least {n} weeks.",
    "{person}, {role}, said {topic} had cost more than {n} million dollars so far.",
    '"We will not accept any further delays," {person} told {agency}.',
    '"The situation is serious. We are working around the clock," said {person}, {role}.',
    "The government is expected to announce changes to {topic} next month.",
    "Analysts believe {topic} could face new legal challenges in the U.S. and the U.K.",
    "According to {agency}, at least {n} people attended the meeting at 10 a.m. on {day}.",
    "{agency} reported, citing two officials, that {topic} was discussed at the summit.",
    "The No. {n} priority for the council remains {topic}, the mayor's office said.",
    "It was not immediately clear whether {topic} would go ahead.",
    "Prices rose by {n}.{m} percent in the third quarter, the statistics office said.",
    "Will {topic} survive the next election?",
    "The agreement may be signed as early as {day}, diplomats said.",
    '{person} was quoted by {agency} as saying that {topic} was "a step in the right direction."',
    "Talks on {topic} resumed in {place} after a break of {n} days.",
]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def sentence(rng: random.Random) -> str:
    """One news-like sentence."""
    return rng.choice(TEMPLATES).format(
        person=rng.choice(PEOPLE),
        role=rng.choice(ROLES),
        agency=rng.choice(AGENCIES),
        place=rng.choice(PLACES),
        topic=rng.choice(TOPICS),
        day=rng.choice(DAYS),
        n=rng.randint(2, 90),
        m=rng.randint(0, 9),
    )


def article(rng: random.Random, sentences: int, number: int) -> str:
    """A plain-text article: title, date, dateline, paragraphs of 1–3 sentences, credits."""
    place = rng.choice(PLACES).upper()
    agency = rng.choice(AGENCIES)
    paragraphs: list[str] = []
    remaining = sentences
    while remaining > 0:
        size = min(remaining, rng.randint(1, 3))
        paragraphs.append(" ".join(sentence(rng) for _ in range(size)))
        remaining -= size
    paragraphs[0] = f"{place} ({agency}) — {paragraphs[0]}"
    title = f"Report {number}: talks on {rng.choice(TOPICS)} continue"
    credit = f"abc/xyz ({agency}, {rng.choice(AGENCIES)})"
    return "\n\n".join([title, "November 14, 2014", *paragraphs, credit]) + "\n"


def corpus(total_sentences: int, per_article: int = 33, seed: int = 7) -> list[str]:
    """Articles adding up to ``total_sentences`` body sentences."""
    rng = random.Random(seed)
    texts = []
    number = 0
    while total_sentences > 0:
        size = min(per_article, total_sentences)
        texts.append(article(rng, size, number))
        total_sentences -= size
        number += 1
    return texts

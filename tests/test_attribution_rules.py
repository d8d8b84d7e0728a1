"""Each attribution rule on sentences written for these tests."""

from __future__ import annotations

import pytest

from annotator.attribution import Analysis, FoundSource, analyse_article
from annotator.ingest.parsed import ParsedArticle, ParsedUnit


def make_article(*paragraphs: str | list[str], credits: tuple[str, ...] = ()) -> ParsedArticle:
    """Join pre-split sentences into paragraphs, one ``sentence`` unit per sentence."""
    text, units = "", []
    for paragraph in paragraphs:
        sentences = [paragraph] if isinstance(paragraph, str) else paragraph
        if text:
            text += "\n\n"
        for n, sentence in enumerate(sentences):
            if n:
                text += " "
            units.append(ParsedUnit("sentence", len(text), len(text) + len(sentence)))
            text += sentence
    return ParsedArticle(text=text, units=units, credits=list(credits))


def analyse(*paragraphs: str | list[str], credits: tuple[str, ...] = ()) -> Analysis:
    """Analyse an article made of the given sentences."""
    return analyse_article(make_article(*paragraphs, credits=credits))


def sources_by_name(analysis: Analysis) -> dict[str, FoundSource]:
    return {s.name: s for s in analysis.sources}


@pytest.mark.parametrize(
    ("sentence", "label", "sources"),
    [
        # X said / said X / X told Y
        (
            "Foreign Minister Sergei Lavrov said Russia was ready to help.",
            "reported_fact",
            ("Sergei Lavrov",),
        ),
        (
            '"The bridge is closed until further notice," said Maria Keller, a spokeswoman for '
            "the city.",
            "quote",
            ("Maria Keller",),
        ),
        ("“We are ready for talks,” Lee Jae-myung told reporters.", "quote", ("Lee Jae-myung",)),
        (
            "A senior official, who spoke on condition of anonymity, told Reuters the plan was "
            "ready.",
            "reported_fact",
            ("a senior official", "Reuters"),
        ),
        # according to, citing, quoted ... as saying
        ("According to Reuters, the talks collapsed on Tuesday.", "reported_fact", ("Reuters",)),
        ("The minister resigned on Friday, according to Yonhap.", "reported_fact", ("Yonhap",)),
        (
            "Park Jin said the talks failed, according to Yonhap.",
            "reported_fact",
            ("Park Jin", "Yonhap"),
        ),
        (
            "Yonhap reported, citing a government source, that the launch failed.",
            "reported_fact",
            ("a government source", "Yonhap"),
        ),
        (
            "Xinhua quoted Wang Yi as saying that China opposed the sanctions.",
            "reported_fact",
            ("Wang Yi", "Xinhua"),
        ),
        (
            "The newspaper Rodong Sinmun quoted Kim Yo Jong as saying the talks were over.",
            "reported_fact",
            ("Kim Yo Jong", "Rodong Sinmun"),
        ),
        (
            "Kim Yo Jong was quoted by KCNA as saying the talks were over.",
            "reported_fact",
            ("Kim Yo Jong", "KCNA"),
        ),
        (
            "Kim Yo Jong was quoted as saying the talks were over.",
            "reported_fact",
            ("Kim Yo Jong",),
        ),
        ("But Lavrov said Moscow would not retreat.", "reported_fact", ("Lavrov",)),
        # acronym definitions
        (
            "The International Atomic Energy Agency (IAEA) said the plant was safe.",
            "reported_fact",
            ("IAEA",),
        ),
        (
            "Deutsche Presse-Agentur (dpa) reported the fire was under control.",
            "reported_fact",
            ("dpa",),
        ),
        # anonymous sources
        (
            "Officials familiar with the matter said the deal was close.",
            "reported_fact",
            ("officials familiar with the matter",),
        ),
        (
            "Officials said the bridge would reopen on Monday.",
            "reported_fact",
            ("officials",),
        ),
        ("Diplomats said the vote had been postponed.", "reported_fact", ("diplomats",)),
        # ambiguous short agency names
        ("Kinnevik shares fell 5 percent, TT reported.", "reported_fact", ("TT",)),
        ("Lee Hsien Loong led the PAP to victory in 2015.", "reported_fact", ()),
        # quotations: precedence, curly marks, scare quotes, short replies
        # a description the article never names becomes a source named by it
        ('"Prices could rise further," the central bank said.', "quote", ("the central bank",)),
        ("„Wir sind bereit für Gespräche mit allen Seiten“, sagte er.", "quote", ()),
        ('The so-called "peace plan" was rejected.', "reported_fact", ()),
        ('"No," she said.', "quote", ()),
        ('"I told them we would not go," Park Jin said.', "quote", ("Park Jin",)),
        # hedges and predictions
        ("The storm is likely to reach the coast by Friday.", "speculation", ()),
        ("Analysts believe the central bank may cut rates.", "speculation", ("analysts",)),
        ("The minister is to visit Paris next week.", "speculation", ()),
        ("Kim Jong Un is set to visit Moscow.", "speculation", ()),
        ("The deal would give Moscow access to the port.", "speculation", ()),
        ("The suspect reportedly fled abroad.", "speculation", ()),
        # things that look like hedges but are not
        ("The aim is to reduce emissions by half.", "reported_fact", ()),
        ("The company plans to open three factories.", "reported_fact", ()),
        ("He could not be reached for comment.", "reported_fact", ()),
        ("Reuters could not independently verify the report.", "reported_fact", ()),
        ("The ministry did not say when the envoy would return.", "reported_fact", ()),
        ("Flights were cancelled due to the storm.", "reported_fact", ()),
        # questions and fragments
        ("Will the ceasefire hold?", "unclear", ()),
        ("Could this be the end of the alliance?", "unclear", ()),
        ("Photo: archive", "unclear", ()),
        ("Read more: Envoy to Moscow", "unclear", ()),
        ("Sanctions.", "unclear", ()),
        ("The army withdrew on Monday.", "reported_fact", ()),
        # the outlet's own voice
        ("The two countries signed a border treaty in 2012.", "reported_fact", ()),
    ],
)
def test_one_sentence(sentence, label, sources):
    suggestion = analyse(sentence).suggestions[0]
    assert suggestion is not None
    assert (suggestion.label, suggestion.sources) == (label, sources)


def test_said_x_and_x_said_find_the_same_person():
    before = analyse('"We will rebuild," Maria Keller said.')
    after = analyse('"We will rebuild," said Maria Keller.')
    assert before.suggestions[0].sources == after.suggestions[0].sources == ("Maria Keller",)
    assert [s.name for s in before.sources] == [s.name for s in after.sources] == ["Maria Keller"]


def test_apposition_and_title_become_the_description():
    analysis = analyse(
        [
            '"It is a turning point," said Anna Berg, an economist at Lund University.',
            "Foreign Minister Sergei Lavrov said Russia was ready to help.",
        ]
    )
    found = sources_by_name(analysis)
    assert found["Anna Berg"] == FoundSource(
        "Anna Berg", "person", (), "an economist at Lund University"
    )
    assert found["Sergei Lavrov"].description == "Foreign Minister"
    assert "Lund University" not in found


def test_titles_are_descriptions_not_names():
    analysis = analyse(
        [
            "Foreign Ministry Spokesman Igor Petrov said the talks would resume.",
            "The spokesman said no date had been set.",
            "President Putin said he was satisfied.",
            "The State Department said it was aware of the reports.",
        ]
    )
    found = sources_by_name(analysis)
    assert found["Igor Petrov"] == FoundSource(
        "Igor Petrov", "person", (), "Foreign Ministry Spokesman"
    )
    assert found["Putin"] == FoundSource("Putin", "person", (), "President")
    assert found["State Department"].kind == "government"
    assert [s.sources for s in analysis.suggestions] == [
        ("Igor Petrov",),
        ("Igor Petrov",),
        ("Putin",),
        ("State Department",),
    ]


def test_an_unnamed_official_is_anonymous_even_when_definite():
    analysis = analyse("The official said the border would stay closed.")
    assert analysis.suggestions[0].sources == ("the official",)
    assert analysis.sources[0].kind == "anonymous"


def test_multi_sentence_quote_shares_the_speaker():
    analysis = analyse(
        [
            '"The situation is grave.',
            "Nobody is coming to help us.",
            'We need help now," said Mayor Anna Berg.',
        ]
    )
    labels = [(s.label, s.sources) for s in analysis.suggestions]
    assert labels == [("quote", ("Anna Berg",))] * 3
    assert [c.kind for c in analysis.suggestions[1].cues] == ["continuing_quote"]


def test_quote_does_not_run_into_a_new_paragraph():
    analysis = analyse('He said: "We will stay here for now.', "The army withdrew on Monday.")
    assert analysis.suggestions[1].label == "reported_fact"


def test_pronouns_descriptions_and_surnames_resolve_to_earlier_sources():
    analysis = analyse(
        [
            "Koh Yu-hwan, a professor at Dongguk University, said ties were improving.",
            "He added that talks would continue.",
            "Koh said more was needed.",
        ],
        [
            "South Korea's Unification Ministry said the talks were cancelled.",
            "The ministry said no new date had been set.",
        ],
    )
    sources = [s.sources for s in analysis.suggestions]
    assert sources == [("Koh Yu-hwan",)] * 3 + [("Unification Ministry",)] * 2
    ministry = sources_by_name(analysis)["Unification Ministry"]
    assert ministry.kind == "government"
    assert ministry.aliases == ("South Korea's Unification Ministry",)


def test_acronym_definition_makes_one_source_with_the_full_name_as_alias():
    analysis = analyse(
        [
            "The International Atomic Energy Agency (IAEA) said the plant was safe.",
            "The IAEA will send inspectors.",
        ]
    )
    assert analysis.sources == (
        FoundSource("IAEA", "organization", ("International Atomic Energy Agency",), None),
    )
    cue_kinds = {c.kind for c in analysis.suggestions[0].cues}
    assert cue_kinds == {"acronym_definition", "reporting_verb"}
    assert [m.source for m in analysis.mentions] == ["IAEA"] * 3


def test_acronym_of_something_that_never_speaks_is_not_a_source():
    analysis = analyse("The European Free Trade Association (EFTA) has four members.")
    assert analysis.sources == ()


@pytest.mark.parametrize(
    "sentence",
    [
        "Lee Hsien Loong led the PAP to victory in 2015.",
        "The new TT coupe was shown in Geneva.",
        "She paid with UPI at the market.",
        "The CNA certificate takes six weeks.",
        "Petra and Hina went to school together.",
    ],
)
def test_ambiguous_agency_names_outside_an_agency_context(sentence):
    analysis = analyse(sentence)
    assert analysis.sources == ()
    assert analysis.mentions == ()


@pytest.mark.parametrize(
    ("sentence", "agency"),
    [
        ("Kinnevik shares fell 5 percent, TT reported.", "TT"),
        ("The talks ended without agreement (AFP, TT).", "TT"),
        ("The Swedish news agency TT said the talks ended.", "TT"),
        ("The figures were confirmed to PAP by the ministry (PAP).", "PAP"),
        ("According to CNA, the typhoon weakened overnight.", "CNA"),
    ],
)
def test_ambiguous_agency_names_in_an_agency_context(sentence, agency):
    found = sources_by_name(analyse(sentence))
    assert found[agency].kind == "news_agency"


@pytest.mark.parametrize(
    ("text", "matches"),
    [
        ("(AP)", ["AP"]),
        ("the news agency AP.", ["AP"]),
        ("picture-alliance/AP", ["AP"]),
        ("APEC leaders met in Lima; a map shows the CAP route.", []),
        (
            "The Associated Press and Agence France-Presse reported it.",
            ["The Associated Press", "Agence France-Presse"],
        ),
    ],
)
def test_agency_names_match_case_sensitively_on_word_boundaries(text, matches):
    analysis = analyse(text)
    assert [text[m.start : m.end] for m in analysis.mentions] == matches


def test_credits_and_dateline_are_sources_but_never_preselected():
    analysis = analyse(
        "SEOUL (Reuters) - North Korea fired a missile on Sunday.",
        "The launch was the third this month.",
        credits=("AFP", "dpa", "Local Times Desk"),
    )
    found = sources_by_name(analysis)
    assert found["Reuters"].kind == "news_agency"
    assert found["AFP"].kind == found["dpa"].kind == "news_agency"
    assert found["Local Times Desk"].kind == "media_outlet"
    assert [s.sources for s in analysis.suggestions] == [(), ()]
    assert [c.kind for c in analysis.suggestions[0].cues] == ["dateline"]


def test_anonymous_source_has_a_stable_name_and_a_mention():
    sentences = [
        "Officials familiar with the matter said the deal was close.",
        "A senior official, who spoke on condition of anonymity, told Reuters it was done.",
        "The officials said the signing was set for Friday.",
    ]
    analysis = analyse(sentences)
    found = sources_by_name(analysis)
    assert found["officials familiar with the matter"].kind == "anonymous"
    assert found["a senior official"].kind == "anonymous"
    assert [s.sources for s in analysis.suggestions] == [
        ("officials familiar with the matter",),
        ("a senior official", "Reuters"),
        ("officials familiar with the matter",),
    ]
    text = make_article(sentences).text
    assert [
        (m.source, text[m.start : m.end])
        for m in analysis.mentions
        if found[m.source].kind == "anonymous"
    ] == [
        ("officials familiar with the matter", "Officials familiar with the matter"),
        ("a senior official", "A senior official"),
    ]
    assert "anonymity" in {c.kind for c in analysis.suggestions[1].cues}


def test_question_and_hedge_cues_carry_offsets():
    article = make_article(["Trade fell sharply.", "Prices may rise again, analysts say.", "Why?"])
    analysis = analyse_article(article)
    hedge = [c for c in analysis.suggestions[1].cues if c.kind == "hedge"]
    assert [(c.text, article.text[c.start : c.end]) for c in hedge] == [("may", "may")]
    question = analysis.suggestions[2].cues
    assert [(c.kind, c.text) for c in question] == [("question", "Why?")]

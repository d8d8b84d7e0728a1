"""Source rules, each on sentences written for these tests (none from the development set)."""

from __future__ import annotations

import pytest

from annotator.attribution import FoundSource
from tests.test_attribution_rules import analyse, sources_by_name


def sources_of(*paragraphs: str | list[str]) -> list[tuple[str, ...]]:
    """The suggested ordered sources of every sentence."""
    return [s.sources for s in analyse(*paragraphs).suggestions]


@pytest.mark.parametrize(
    ("sentence", "sources"),
    [
        # a name between commas after a description is the speaker, not the clause after it
        (
            "Norway's fisheries minister, Ola Brekke, said Oslo would cut the quota.",
            ("Ola Brekke",),
        ),
        (
            "Her attorney, Paula Greene, told Reuters the charges were false.",
            ("Paula Greene", "Reuters"),
        ),
        ("The prime minister's chief of staff, Lea Marsh, said talks would go on.", ("Lea Marsh",)),
        # a person "of" an institution is the person
        (
            "Economist Maya Lind of the Central Statistics Bureau said prices rose.",
            ("Maya Lind",),
        ),
        # ... but an institution "of" a place stays whole
        (
            "The Fishing Union of the West warned that boats would stay in port.",
            ("Fishing Union of the West",),
        ),
        # a descriptor and a name after the verb
        ('"We are ready," said town clerk Mark Ferris.', ("Mark Ferris",)),
        ('"It was terrifying," said one of them, 45-year-old Ana Costa.', ("Ana Costa",)),
        # "said X" only when X ends the clause: here X starts what was said
        ("Minister Jan Holt said Brussels had agreed to the plan.", ("Jan Holt",)),
        # a negated reporting verb inside what someone said is part of the content
        ("Minister Jan Holt said Brussels had not confirmed the figures.", ("Jan Holt",)),
        # more reporting verbs of news English
        ('Governor Ana Silva called the plan "reckless and cruel."', ("Ana Silva",)),
        ("Ankara accused Athens of violating its airspace.", ("Ankara",)),
        (
            "Doctors Without Borders cautioned that the clinic could close.",
            ("Doctors Without Borders",),
        ),
        ("Some economists have speculated that the bank could raise rates.", ("some economists",)),
        # an agency named before its description
        ("The port was closed, Kyodo news agency reported.", ("Kyodo",)),
        ("Fighting resumed, the Tanjug news agency said.", ("Tanjug",)),
        # a spokesperson speaks for the institution
        ("A Defence Ministry spokesperson said the drill was routine.", ("Defence Ministry",)),
        # institutions named only by a description
        ("The regional water board said the reservoir was full.", ("the regional water board",)),
        ("Police said two men had been arrested.", ("police",)),
        ("Two men were arrested, according to police.", ("police",)),
        ("Danish television reported that the ferry had run aground.", ("Danish television",)),
        ("Chile's navy said two sailors were missing.", ("Chile's navy",)),
        # unnamed people, named by their description
        (
            "A person familiar with the plans said the deal was off.",
            ("a person familiar with the plans",),
        ),
        (
            "Two diplomats who attended the meeting said the mood was tense.",
            ("two diplomats who attended the meeting",),
        ),
        (
            "According to a senior Gulf official, the talks will resume.",
            ("a senior Gulf official",),
        ),
        # a study is named by the journal that published it
        (
            "Heart attacks fell by a fifth, according to a study published in the journal "
            "Cardio Reports.",
            ("Cardio Reports study",),
        ),
    ],
)
def test_speaker_of_one_sentence(sentence, sources):
    assert sources_of(sentence) == [sources]


def test_apposed_name_keeps_its_description_and_kind():
    found = sources_by_name(
        analyse(
            "The country's state news agency, NTA, reported, citing the interior ministry, "
            "that the border was closed."
        )
    )
    assert found["NTA"].kind == "news_agency"
    assert found["NTA"].description == "The country's state news agency"


def test_possessive_country_is_an_alias_of_the_institution():
    analysis = analyse("Poland's Supreme Audit Office said the project ran over budget.")
    assert analysis.sources == (
        FoundSource(
            "Supreme Audit Office", "government", ("Poland's Supreme Audit Office",), "Poland"
        ),
    )


@pytest.mark.parametrize(
    ("paragraphs", "expected"),
    [
        # "the company" before the company ever spoke: the "firm X" just mentioned
        (
            ["Shipping firm Nordlys Cargo will sell two vessels, the company said."],
            [("Nordlys Cargo",)],
        ),
        # "the authority" matches a word of a known name
        (
            [
                "The Tarn Port Authority said fees would rise.",
                "The authority expects the first berths to open in May.",
            ],
            [("Tarn Port Authority",)] * 2,
        ),
        # "the military" is the latest armed-forces source
        (
            [
                "Chile's Joint Staff said a drone was shot down.",
                "The military said no one was hurt.",
            ],
            [("Joint Staff",)] * 2,
        ),
        # "the newspaper" points back at the paper an apposition named
        (
            [
                "Her employer, the Oslo-based newspaper Dagsposten, said she was innocent.",
                "The newspaper said it had hired a lawyer.",
            ],
            [("Dagsposten",)] * 2,
        ),
        # "It reported" after the company
        (
            ["Brennan Foods said sales fell.", "It reported a loss of 4 million euros."],
            [("Brennan Foods",)] * 2,
        ),
        # "that person" and "one of them" point back at the unnamed source
        (
            [
                "A person familiar with the plans said the deal was off.",
                "That person, who was not authorised to speak, said talks could resume.",
            ],
            [("a person familiar with the plans",)] * 2,
        ),
        (
            [
                "Two diplomats who attended the meeting said the mood was tense.",
                "One of them said the envoy left early.",
            ],
            [("two diplomats who attended the meeting",)] * 2,
        ),
        # plural "the officials" goes to the plural source, not the later single official
        (
            [
                "Officials briefed on the talks said a deal was near.",
                "A senior official said the text was ready.",
                "The officials said the signing could come on Friday.",
            ],
            [
                ("officials briefed on the talks",),
                ("a senior official",),
                ("officials briefed on the talks",),
            ],
        ),
        # "the coach" after "coach X"
        (
            [
                "Head coach Marta Ruiz said the team had trained well.",
                "The coach would only say that the line-up was not final.",
            ],
            [("Marta Ruiz",)] * 2,
        ),
    ],
)
def test_descriptions_point_back(paragraphs, expected):
    assert sources_of(paragraphs) == expected


def test_a_lone_surname_is_the_full_name_mentioned_before():
    analysis = analyse(
        [
            "Aid worker Sami Haddad reached the town on Monday.",
            "Haddad said the clinic had run out of insulin.",
            "He added that a convoy was on its way.",
        ]
    )
    assert [s.sources for s in analysis.suggestions] == [(), ("Sami Haddad",), ("Sami Haddad",)]
    assert sources_by_name(analysis)["Sami Haddad"].kind == "person"


def test_he_is_the_person_mentioned_last_outside_quotations():
    assert sources_of(
        [
            "Engineer Tomas Berg said the dam was safe.",
            "Mayor Lina Holm said repairs would start soon.",
            "Asked about the cracks, Berg shrugged.",
            '"They are cosmetic," he said.',
        ]
    )[-1] == ("Tomas Berg",)
    assert sources_of(
        [
            "Coach Ali Demir said the team was tired.",
            "Captain Jonas Falk said the team was ready.",
            '"Ali knows what he is doing," he said.',
        ]
    )[-1] == ("Jonas Falk",)


def test_two_person_pronouns_in_one_sentence_are_two_people():
    assert sources_of(
        [
            "Maria Holt said through her lawyer that she was innocent.",
            "Lawyer Erik Sand told reporters the trial was unfair.",
            "Sand met Holt in prison on Monday.",
            "He quoted her as saying she would appeal.",
        ]
    )[-1] == ("Maria Holt", "Erik Sand")


@pytest.mark.parametrize(
    ("sentence", "sources"),
    [
        # a leading clause nests: the innermost speaker comes first
        (
            "Nils Dahl told AFP that Eva Strand had said the border was closed.",
            ("Eva Strand", "Nils Dahl", "AFP"),
        ),
        # a trailing clause passes on what came before it
        (
            'Lars Ek, a senior party official, said Oslo had "no plans" to respond, NTB reported.',
            ("Lars Ek", "NTB"),
        ),
        # whoever is cited comes right before the one who cites
        (
            'A spokesman for Norway\'s foreign ministry called the test "a provocation," '
            "Kyodo said, citing Xinhua.",
            ("Norway's foreign ministry", "Xinhua", "Kyodo"),
        ),
        (
            "The group said in a statement, citing local doctors, that nine people died.",
            ("local doctors", "the group"),
        ),
        # an outlet the words were said on
        (
            '"We deserved it," Rosa Vidal said on the Canal Norte channel.',
            (
                "Rosa Vidal",
                "Canal Norte",
            ),
        ),
    ],
)
def test_relays_in_order(sentence, sources):
    assert sources_of(sentence) == [sources]


def test_quoted_as_saying_puts_the_quoted_first():
    assert sources_of(
        [
            "Tanjug reported that the bridge had reopened.",
            "The agency quoted a port official, Ivo Mrak, as saying traffic was normal.",
            'A spokesman for the city council called the delay "unacceptable," Tanjug said.',
            "Tanjug quoted the spokesman as adding that the council would sue.",
        ]
    ) == [
        ("Tanjug",),
        ("Ivo Mrak", "Tanjug"),
        ("the city council", "Tanjug"),
        ("the city council", "Tanjug"),
    ]


def test_a_free_standing_quotation_continues_the_previous_speaker():
    analysis = analyse(
        ['"We lost everything," said farmer Ruth Lee.', '"The water took the barn."'],
        ["“Nobody warned us.”"],
    )
    assert [s.sources for s in analysis.suggestions] == [("Ruth Lee",)] * 3
    assert "previous_speaker" in {c.kind for c in analysis.suggestions[1].cues}


def test_a_quotation_attributed_at_its_end_does_not_inherit():
    assert sources_of(
        [
            "Mayor Ann Cole said the road would reopen.",
            '"It has been a hard week.',
            'We thank everyone," said resident Tom Bay.',
        ]
    ) == [("Ann Cole",), ("Tom Bay",), ("Tom Bay",)]


def test_a_note_that_read_is_the_source_of_its_words():
    analysis = analyse(
        [
            "A typed letter was left at the door.",
            'It read: "We will be back.',
            'Sorry for the mess."',
        ]
    )
    assert [s.sources for s in analysis.suggestions] == [(), ("typed letter",), ("typed letter",)]
    assert sources_by_name(analysis)["typed letter"].kind == "document"


def test_people_merely_mentioned_are_not_sources():
    analysis = analyse(
        [
            "Coach Ida Berg said she would rest captain Leo Marsh against Chile.",
            "Marsh was injured in March.",
            '"Leo needs time," she said.',
        ]
    )
    names = {s.name for s in analysis.sources}
    assert names == {"Ida Berg"}
    assert analysis.suggestions[2].sources == ("Ida Berg",)


def test_a_partial_quotation_after_a_reporting_verb_is_a_quote():
    assert analyse('The senator said the bill was "dead on arrival."').suggestions[0].label == (
        "quote"
    )
    assert analyse('The so-called "reform" was shelved.').suggestions[0].label == "reported_fact"


@pytest.mark.parametrize(
    ("paragraphs", "expected"),
    [
        # a stance verb reports speech only with a claim as its object
        (
            ["Senator Ruth Vale said the port was unsafe.", "Vale rejected that accusation."],
            [("Ruth Vale",)] * 2,
        ),
        (["Voters rejected the plan in 2019."], [()]),
        # "read" gives a wording only before a colon or a quotation mark
        (["She read the report twice."], [()]),
        # a view held by named holders is theirs
        (["Economists expect the bank to hold rates."], [("economists",)]),
        (["The Tarn Port Authority expects traffic to double."], [("Tarn Port Authority",)]),
        # a passive reporting verb names no speaker
        (["The fire was reported by a neighbour shortly after midnight."], [()]),
        # a negated verb points back but introduces nobody new
        (["The board did not say when the vote would be held."], [()]),
    ],
)
def test_verbs_that_report_only_in_some_constructions(paragraphs, expected):
    assert sources_of(paragraphs) == expected


def test_a_description_points_at_the_most_recent_match():
    assert sources_of(
        [
            "The ministry said the talks were over.",
            "The Interior Ministry said it had closed the border.",
            "The ministry added that the crossing would reopen in May.",
        ]
    ) == [("the ministry",), ("Interior Ministry",), ("Interior Ministry",)]


def test_a_pronoun_or_description_says_that_it_points_back():
    analysis = analyse(["Engineer Tomas Berg said the dam was safe.", "He added that it was old."])
    cues = [(c.kind, c.text) for c in analysis.suggestions[1].cues]
    assert ("refers_back", "He") in cues
    assert analysis.suggestions[1].sources == ("Tomas Berg",)

"""Name normalisation and the small word lists used to classify a named speaker."""

from __future__ import annotations

from functools import lru_cache

from annotator.names import normalise_name

# The same few names come back in every sentence; remember their keys.
name_key = lru_cache(maxsize=8192)(normalise_name)


# Titles and honorifics that precede a person's name ("Foreign Minister Sergei Lavrov").
TITLE_WORDS = frozenset(
    """
    President Vice Prime Minister Foreign Defence Defense Deputy Secretary General Gen. Gen
    Chancellor Spokesman Spokeswoman Spokesperson Ambassador Senator Sen. Rep. Representative
    Governor Gov. Mayor King Queen Prince Princess Pope Chairman Chairwoman Chair Director Chief
    Executive CEO Professor Prof. Dr. Dr Mr. Mr Mrs. Mrs Ms. Ms Leader Envoy Commander Colonel
    Col. Lieutenant Lt. Major Maj. Captain Capt. Admiral Marshal Premier Judge Justice Sheikh
    Emir Crown Supreme Speaker Minister-President Interior Finance Economy Trade State Health
    Education Justice Environment Energy Culture Labour Labor Unification Home Sir Dame Lord
    Lady Bishop Archbishop Cardinal Rabbi Imam Father Sergeant Sgt. Officer Inspector Prosecutor
    Coach Clerk Councillor Economist Engineer Lawyer Attorney Farmer Teacher Doctor Nurse
    Analyst Scientist Researcher Activist Author Writer Pundit Journalist Reporter Photographer
    Architect Historian Physician Surgeon Pilot Captain Striker Midfielder Defender Goalkeeper
    Superintendent Commissioner Attorney Councillor Councilman Councilwoman MP
    """.split()
)

# Words that make a capitalised name an institution rather than a person.
GOVERNMENT_WORDS = frozenset(
    """
    Ministry Government Cabinet Kremlin Pentagon Parliament Senate Congress Assembly Presidency
    Department Office Embassy Consulate Police Army Navy Military Command Council Chancellery
    Administration Bundestag Duma Knesset Politburo Authority Authorities Secretariat
    Staff Chiefs Forces Guard Prosecutors Ombudsman
    """.split()
)
ORGANIZATION_WORDS = frozenset(
    """
    Agency Organization Organisation Association Institute University College Union Fund Bank
    Commission Committee Party Company Corporation Corp. Inc. Inc Ltd Group Foundation Centre
    Center Court Federation League Alliance Society Forum Network Coalition Movement Front
    Church Club Board Bureau Service Services Programme Program Initiative Watch International
    Amnesty Red Cross Crescent NATO Airlines Motors Holdings Partners Trust Academy Laboratory
    Foods Systems Energy Technologies Technology Pharma Pharmaceuticals Industries Steel Mining
    Logistics Cargo Shipping Insurance Capital Securities Labs Software Solutions Electric Oil
    Gas Power Telecom Airways Railways Rail Construction Chemicals Brewery Bakery Studios Games
    """.split()
)
MEDIA_WORDS = frozenset(
    """
    Times Post Journal Herald Daily Tribune Gazette Newspaper Television TV Radio Broadcasting
    Broadcasting Magazine Telegraph Guardian Observer Chronicle Sinmun Shimbun Ilbo Zeitung
    """.split()
)
DOCUMENT_WORDS = frozenset("Report Statement Document Memo Memorandum Study Survey Letter".split())
_INSTITUTION_WORDS = GOVERNMENT_WORDS | ORGANIZATION_WORDS | MEDIA_WORDS | DOCUMENT_WORDS

# Countries and capitals stand for their governments when they "say" something.
STATE_NAMES = frozenset(
    """
    Russia Moscow China Beijing Japan Tokyo India Delhi Pakistan Islamabad Iran Tehran Iraq
    Baghdad Israel Syria Damascus Turkey Ankara Ukraine Kyiv Kiev Germany Berlin France Paris
    Britain London Italy Rome Spain Madrid Poland Warsaw Egypt Cairo Canada Ottawa Australia
    Canberra Brazil Mexico Washington Pyongyang Seoul Taipei Taiwan Vietnam Hanoi Indonesia
    Jakarta Afghanistan Kabul Qatar Doha Lebanon Beirut Jordan Amman Belarus Minsk Serbia
    Belgrade Hungary Budapest Greece Athens Venezuela Caracas Cuba Havana Nigeria Kenya Nairobi
    Ethiopia Sweden Stockholm Norway Oslo Finland Helsinki Denmark Copenhagen Brussels Vienna
    Switzerland Bern Geneva Tokyo Manila Bangkok Riyadh Emirates Kuwait Yemen Libya Tripoli
    """.split()
)
STATE_PHRASES = frozenset(
    normalise_name(p)
    for p in (
        "North Korea",
        "South Korea",
        "United States",
        "the United States",
        "White House",
        "State Department",
        "European Union",
        "European Commission",
        "United Nations",
        "Saudi Arabia",
        "New Delhi",
    )
)


def guess_kind(name: str) -> str:
    """Guess the kind of a capitalised name that is not in any registry."""
    words = name.replace("'s ", " ").split()
    if normalise_name(name) in STATE_PHRASES:
        return "government"
    if len(words) == 1 and words[0] in STATE_NAMES:
        return "government"
    found = set(words)
    if found & GOVERNMENT_WORDS:
        return "government"
    if found & MEDIA_WORDS:
        return "media_outlet"
    if found & ORGANIZATION_WORDS:
        return "organization"
    if found & DOCUMENT_WORDS:
        return "document"
    if len(words) == 1 or any(w.isupper() and len(w) > 1 for w in words):
        # A lone capitalised word or an acronym is more often an institution than a person.
        return "organization"
    return "person"


def classify(name: str) -> tuple[str, str, str | None]:
    """Return (name, kind, title) for a new speaker: "Foreign Ministry Spokesman Igor Petrov"
    is the person "Igor Petrov" titled "Foreign Ministry Spokesman"; "Ilse Brandt of the
    University of Marrach" is the person "Ilse Brandt" of that university."""
    person, of, institution = name.partition(" of ")
    if of and " " in person and set(institution.split()) & _INSTITUTION_WORDS:
        rest, title = split_title(person)
        if " " in rest and guess_kind(rest) == "person":
            institution = institution.removeprefix("the ")
            return rest, "person", f"{title} of {institution}" if title else institution
    rest, title = split_title(name)
    if title is not None and not set(rest.split()) & _INSTITUTION_WORDS:
        return rest, "person", title
    return name, guess_kind(name), None


def split_title(name: str) -> tuple[str, str | None]:
    """Split "Foreign Minister Sergei Lavrov" into ("Sergei Lavrov", "Foreign Minister")."""
    words = name.split()
    last_title = -1
    for i, word in enumerate(words[:-1]):
        if word in TITLE_WORDS:
            last_title = i
    if last_title < 0:
        return name, None
    return " ".join(words[last_title + 1 :]), " ".join(words[: last_title + 1])

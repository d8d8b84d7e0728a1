"""Find the sources an article cites and suggest a label and sources for every sentence.

Pure Python and rule based, so every suggestion can say which words justified it.
"""

from .agencies import BUILTIN_AGENCIES
from .analyse import analyse_article
from .model import Analysis, Cue, FoundSource, Mention, Suggestion
from .names import normalise_name

__all__ = [
    "BUILTIN_AGENCIES",
    "Analysis",
    "Cue",
    "FoundSource",
    "Mention",
    "Suggestion",
    "analyse_article",
    "normalise_name",
]

"""The annotation guidelines: the project's labels, the precedence rule, examples."""

from __future__ import annotations

from flask import Blueprint, render_template
from werkzeug.wrappers import Response

from annotator.db import get_session
from annotator.views.loaders import get_project_or_404
from annotator.web import current_user, login_required

bp = Blueprint("guidelines", __name__)

# Short examples written for the project (not taken from any article), one or
# more per default label, with the reason a reader should give.
EXAMPLES: dict[str, list[tuple[str, str, str]]] = {
    "reported_fact": [
        (
            "The council approved the budget on Tuesday, the mayor's office said.",
            "mayor's office",
            "A claim stated without hedging; the source is who said it.",
        ),
        (
            "The bridge was built in 1962.",
            "(none)",
            "The outlet's own voice: no source, an empty list.",
        ),
    ],
    "quote": [
        (
            "“We will not accept any further delays,” the minister told AP.",
            "the minister → AP",
            "Words in quotation marks; the speaker first, then the agency it reached us through.",
        ),
        (
            "“Prices could double by spring,” an analyst warned.",
            "the analyst",
            "Speculative content, but a direct quotation: quote wins (precedence).",
        ),
    ],
    "speculation": [
        (
            "The talks are expected to resume next week, diplomats said.",
            "diplomats",
            "“Expected to” hedges the claim; no quotation marks.",
        ),
        (
            "The strike could cost the airline millions.",
            "(none)",
            "“Could” makes it a conjecture of the outlet itself.",
        ),
    ],
    "unclear": [
        (
            "Will the ferry service be expanded?",
            "(none)",
            "A question asserts nothing.",
        ),
        ("Renewed relations", "(none)", "A fragment; usually a misplaced heading."),
    ],
}


@bp.get("/guidelines")
@login_required
def show() -> str:
    """The default scheme's guidelines (for users who are in no project yet)."""
    from annotator.projects import DEFAULT_LABELS

    labels = [{"name": n, "key": k, "description": d} for n, k, d in DEFAULT_LABELS]
    return render_template("guidelines.html", project=None, labels=labels, examples=EXAMPLES)


@bp.get("/projects/<int:project_id>/guidelines")
@login_required
def project(project_id: int) -> str | Response:
    """The guidelines of one project: its own labels, in key order."""
    user = current_user()
    assert user is not None
    found = get_project_or_404(get_session(), project_id, user)
    labels = [
        {"name": label.name, "key": label.key, "description": label.description}
        for label in found.labels
    ]
    return render_template("guidelines.html", project=found, labels=labels, examples=EXAMPLES)

"""WTForms forms of the review pages: the queue's filters, a decision, the threshold."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from annotator.models import ERROR_CATEGORIES, NAME_MAX
from annotator.review import (
    ID_MAX,
    MAX_SOURCES,
    RATIONALE_MAX,
    STATUSES,
    THRESHOLD_MAX,
    THRESHOLD_MIN,
    InvalidFilter,
    parse_pair,
)

STATUS_TEXT = {
    "open": "Open (undecided)",
    "decided": "Decided",
    "all": "All",
}
CATEGORY_TEXT = {
    "guideline_gap": "Guideline gap",
    "ambiguous_text": "Ambiguous text",
    "annotator_error": "Annotator error",
    "segmentation_error": "Segmentation error",
}


class PairField(SelectField):
    """``a,b``: two label names; either order is accepted and shown in the labels' order."""

    labels: tuple[str, ...] = ()

    def set_labels(self, labels: tuple[str, ...]) -> None:
        """Offer every pair of the project's labels, the diagonal included."""
        self.labels = labels
        self.choices = [SelectChoice("", "Any")]
        for i, a in enumerate(labels):
            for b in labels[i:]:
                text = f"{a} × {b}" if a != b else f"{a} × {a} (both gave it)"
                self.choices.append(SelectChoice(f"{a},{b}", text))

    def pre_validate(self, form: Any) -> None:
        """Accept ``b,a`` for ``a,b``; refuse names that are not labels of the project."""
        if not self.data:
            self.data = ""
            return
        try:
            a, b = parse_pair(self.data)
        except InvalidFilter as error:
            raise ValidationError(error.message) from None
        if a not in self.labels or b not in self.labels:
            raise ValidationError("Choose two labels of this project.")
        if self.labels.index(a) > self.labels.index(b):
            a, b = b, a
        self.data = f"{a},{b}"

    def pair(self) -> tuple[str, str] | None:
        """The validated pair, or None for any."""
        return parse_pair(self.data) if self.data else None


class QueueForm(FlaskForm):
    """The queue's filters (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    pair = PairField("Label pair", validate_choice=False)
    sources = BooleanField("Only where sources disagree")
    article = IntegerField(
        "Article", validators=[Optional(), NumberRange(1, ID_MAX, "Choose an article.")]
    )
    annotator = SelectField("Annotator", default="", validate_choice=True)
    status = SelectField(
        "Status", choices=[SelectChoice(s, STATUS_TEXT[s]) for s in STATUSES], default="open"
    )


def _lines(_form: Any, field: Any) -> None:
    names = [line.strip() for line in (field.data or "").splitlines() if line.strip()]
    if len(names) > MAX_SOURCES:
        raise ValidationError(f"At most {MAX_SOURCES} sources.")
    if any(len(name) > NAME_MAX for name in names):
        raise ValidationError(f"A source name has at most {NAME_MAX} characters.")


class DecisionForm(FlaskForm):
    """Accept one answer (``accept`` = annotator id:version) or decide a new one."""

    accept = StringField(
        validators=[
            DataRequired("Choose an answer or a decision."),
            Regexp(r"^(new|unresolved|\d{1,10}:\d{1,10})$", message="Unknown choice."),
        ]
    )
    label = SelectField("Label", default="", validate_choice=True)
    sources = TextAreaField(
        "Sources, in order",
        validators=[Optional(), Length(max=MAX_SOURCES * (NAME_MAX + 2)), _lines],
        description="One name or alias from the registry per line: the speaker first, then "
        "through whom it reached the article. Empty: the outlet's own voice.",
    )
    rationale = TextAreaField(
        "Rationale",
        validators=[Optional(), Length(max=RATIONALE_MAX)],
        description="Why this answer (required when marking the sentence unresolved).",
    )
    error_category = SelectField(
        "Error category",
        choices=[SelectChoice("", "None")]
        + [SelectChoice(c, CATEGORY_TEXT[c]) for c in ERROR_CATEGORIES],
        default="",
    )

    def set_labels(self, labels: tuple[str, ...]) -> None:
        """The project's labels as choices (empty: no label)."""
        self.label.choices = [SelectChoice("", "Choose…")] + [SelectChoice(n, n) for n in labels]

    def source_names(self) -> list[str]:
        """The typed source names, in order, blank lines dropped."""
        return [line.strip() for line in (self.sources.data or "").splitlines() if line.strip()]


class ThresholdForm(FlaskForm):
    """How many agreeing annotators make a unit unanimous."""

    threshold = IntegerField(
        "Minimum annotators",
        validators=[
            InputRequired("Give a number."),
            NumberRange(
                THRESHOLD_MIN,
                THRESHOLD_MAX,
                f"Give a whole number from {THRESHOLD_MIN} to {THRESHOLD_MAX}.",
            ),
        ],
    )

"""WTForms forms of the source registry and segmentation pages; limits match the columns."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import HiddenInput

from annotator.models import NAME_MAX, SOURCE_KINDS
from annotator.source_edits import DESCRIPTION_MAX
from annotator.source_usage import SORTS

# Ids and offsets beyond a 32-bit integer exist in no table: refusing them in the
# form keeps them away from engines that would raise on an overflowing parameter.
ID_MAX = 2**31 - 1
# The unit's offsets as the page showed them: an edit of a unit that changed since is refused.
_SPAN = [InputRequired(), NumberRange(min=0, max=ID_MAX)]
KIND_CHOICES = [SelectChoice(kind, kind.replace("_", " ")) for kind in SOURCE_KINDS]


class RegistryQueryForm(FlaskForm):
    """The registry's filter, sort, page and project (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    project = IntegerField("Project", validators=[Optional(), NumberRange(min=1, max=ID_MAX)])
    q = StringField("Filter by name or alias", validators=[Optional(), Length(max=NAME_MAX)])
    sort = SelectField(
        "Sort by", choices=[SelectChoice(s, s) for s in SORTS], default="name", validate_choice=True
    )
    page = IntegerField("Page", default=1, validators=[Optional(), NumberRange(1, 1_000_000)])


class RenameForm(FlaskForm):
    """A new canonical name; the old one is kept as an alias."""

    name = StringField("New name", validators=[DataRequired(), Length(max=NAME_MAX)])


class DetailsForm(FlaskForm):
    """Kind and description."""

    kind = SelectField("Kind", choices=KIND_CHOICES)
    description = TextAreaField("Description", validators=[Optional(), Length(max=DESCRIPTION_MAX)])


class AliasForm(FlaskForm):
    """Another name the source is known by."""

    alias = StringField("New alias", validators=[DataRequired(), Length(max=NAME_MAX)])


class RemoveAliasForm(FlaskForm):
    """Which alias to forget."""

    alias_id = IntegerField(
        widget=HiddenInput(), validators=[InputRequired(), NumberRange(min=1, max=ID_MAX)]
    )


class MergeForm(FlaskForm):
    """The source to merge into, by name or alias, and an explicit confirmation."""

    into = StringField(
        "Merge into (name or alias)",
        validators=[DataRequired(), Length(max=NAME_MAX)],
        description="Everything citing this source will cite the other one; "
        "this source's name and aliases become its aliases, and this source is deleted.",
    )
    confirm = BooleanField(
        "I understand this source will be deleted",
        validators=[DataRequired(message="tick the box to confirm the merge")],
    )


class SplitForm(FlaskForm):
    """Where to split a sentence: characters from its start (code points)."""

    offset = IntegerField(
        "Split before character",
        validators=[
            InputRequired("give the position to split at"),
            NumberRange(min=1, max=ID_MAX, message="the position must be inside the sentence"),
        ],
    )
    start = IntegerField(widget=HiddenInput(), validators=_SPAN)
    end = IntegerField(widget=HiddenInput(), validators=_SPAN)


class MergeNextForm(FlaskForm):
    """Merge a sentence with the next one; start/end say which version the page showed."""

    start = IntegerField(widget=HiddenInput(), validators=_SPAN)
    end = IntegerField(widget=HiddenInput(), validators=_SPAN)

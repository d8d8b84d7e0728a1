"""WTForms forms of the projects area; limits match the columns and the domain checks."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField
from wtforms import (
    IntegerField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from annotator.models import NAME_MAX, SUGGESTION_MODES
from annotator.names import name_problem
from annotator.project_settings import ANNOTATORS_PER_ARTICLE_MAX, DESCRIPTION_MAX

UPLOAD_EXTENSIONS = ["txt", "html", "htm", "json", "jsonl"]
# Pasted text arrives as a form field, which Werkzeug caps at MAX_FORM_MEMORY_SIZE
# (500 kB by default); bigger articles go through the file upload.
TITLE_MAX = 1000
GARBLED = (
    "The text contains U+FFFD replacement characters (\ufffd): it was not valid UTF-8 "
    "when it arrived. Save the article as a UTF-8 .txt file and upload it instead."
)
SUGGESTION_HELP = {
    "hidden": "Hidden",
    "hint": "Hint beside the sentence",
    "prefill": "Prefilled, to confirm",
}


def _valid_name(_form: Any, field: Any) -> None:
    problem = name_problem(field.data or "", max_length=NAME_MAX)
    if problem:
        raise ValidationError(f"The name {problem}.")


class NewProjectForm(FlaskForm):
    """Name and description of a new project (admins)."""

    name = StringField("Name", validators=[DataRequired(), Length(max=NAME_MAX), _valid_name])
    description = TextAreaField("Description", validators=[Optional(), Length(max=DESCRIPTION_MAX)])


class ImportForm(FlaskForm):
    """Pasted text with an optional title, or one uploaded file."""

    title = StringField(
        "Title (optional)",
        validators=[Optional(), Length(max=TITLE_MAX)],
        description="Used as is; otherwise the first line may become the title.",
    )
    text = TextAreaField("Article text", validators=[Optional()])
    file = FileField(
        "Or upload a file",
        validators=[FileAllowed(UPLOAD_EXTENSIONS, "Upload a .txt, .html, .json or .jsonl file.")],
        description=".txt, .html, .json (one article or a list) or .jsonl (one per line).",
    )

    def validate(self, extra_validators: Any = None) -> bool:
        """Exactly one of pasted text and file."""
        if not super().validate(extra_validators):
            return False
        for field in (self.text, self.title):
            if "\ufffd" in (field.data or ""):
                # Werkzeug decodes form fields with errors="replace": invalid UTF-8
                # arrives as U+FFFD, indistinguishable from the real character, so
                # pasted text is refused rather than stored garbled (catalogue row 9).
                field.errors = [*field.errors, GARBLED]
                return False
        has_text = bool((self.text.data or "").strip())
        has_file = bool(self.file.data and getattr(self.file.data, "filename", ""))
        if has_text and has_file:
            self.file.errors = [*self.file.errors, "Paste text or upload a file, not both."]
            return False
        if not has_text and not has_file:
            if self.text.data:
                self.text.errors = [*self.text.errors, "The article is empty."]
            else:
                self.text.errors = [*self.text.errors, "Paste an article or choose a file."]
            return False
        return True


class MemberForm(FlaskForm):
    """An existing user's name, to add to the project."""

    username = StringField("Username", validators=[DataRequired(), Length(max=NAME_MAX)])


class SettingsForm(FlaskForm):
    """Suggestion mode, annotators per article, description."""

    suggestion_mode = SelectField(
        "Suggestions",
        choices=[SelectChoice(mode, SUGGESTION_HELP[mode]) for mode in SUGGESTION_MODES],
        validators=[DataRequired()],
        description=(
            "The automatic label and sources: hidden from annotators, shown as a hint, "
            "or prefilled as the starting answer they confirm or change."
        ),
    )
    annotators_per_article = IntegerField(
        "Annotators per article",
        validators=[Optional(), NumberRange(min=1, max=ANNOTATORS_PER_ARTICLE_MAX)],
        description="Empty: every annotator of the project annotates every article.",
    )
    description = TextAreaField("Description", validators=[Optional(), Length(max=DESCRIPTION_MAX)])


class ArticleAssignForm(FlaskForm):
    """The annotators of one article (checkboxes; choices are the project's annotators)."""

    annotators = SelectMultipleField(
        "Annotators",
        coerce=int,
        option_widget=widgets.CheckboxInput(),
        widget=widgets.ListWidget(prefix_label=False),
        validate_choice=True,
    )


class ActionForm(FlaskForm):
    """A form with nothing but its CSRF token (buttons like Assign and Remove)."""

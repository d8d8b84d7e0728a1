"""WTForms forms shared by the pages; field limits match the database columns."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from annotator.models import NAME_MAX
from annotator.users import PASSWORD_MAX, PASSWORD_MIN


class LoginForm(FlaskForm):
    """Username and password (field names are a public contract: scripts post them)."""

    username = StringField("Username", validators=[DataRequired(), Length(max=NAME_MAX)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=PASSWORD_MAX)])


class PasswordChangeForm(FlaskForm):
    """Current password, then the new one twice."""

    current = PasswordField("Current password", validators=[DataRequired()])
    new = PasswordField(
        "New password",
        validators=[DataRequired(), Length(min=PASSWORD_MIN, max=PASSWORD_MAX)],
    )
    confirm = PasswordField(
        "Repeat the new password",
        validators=[DataRequired(), EqualTo("new", message="the two passwords differ")],
    )

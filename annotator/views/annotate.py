"""The annotation page of an article."""

from __future__ import annotations

from flask import Blueprint, render_template
from sqlalchemy import select

from annotator.db import get_session
from annotator.models import Unit
from annotator.views.loaders import get_article_or_404
from annotator.web import current_user, login_required

bp = Blueprint("annotate", __name__)


@bp.get("/articles/<int:article_id>/annotate")
@login_required
def page(article_id: int) -> str:
    """The article in reading order with its units."""
    user = current_user()
    assert user is not None
    session = get_session()
    article = get_article_or_404(session, article_id, user)
    units = session.execute(
        select(Unit.kind, Unit.start, Unit.end)
        .where(Unit.article_id == article.id)
        .order_by(Unit.position)
    ).all()
    blocks = [(kind, article.text[start:end]) for kind, start, end in units]
    return render_template("annotate.html", article=article, blocks=blocks)

"""How good are the suggestions? Compare them with gold answers, unit by unit.

For every sentence with a gold label: was the suggested label right, did the
suggested sources match the gold sources (as sets, and as the ordered list the
annotator would have to confirm), and could the annotator have accepted the
suggestion with one key, changing nothing. Works on any project with gold, so
a team can measure the assistance on its own material (``annotator
suggestions-eval``), and on the development set written for the project
(``bench/suggestions.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, literal, select
from sqlalchemy.orm import Session

from annotator.models import Article, Gold, GoldSource, Label, Source, Unit


@dataclass(frozen=True)
class Case:
    """One sentence: the suggestion and the gold answer (ordered source names)."""

    unit: int
    suggested_label: str | None
    suggested_sources: tuple[str, ...]
    gold_label: str
    gold_sources: tuple[str, ...]
    text: str = ""


@dataclass
class Evaluation:
    """Counts behind the figures, and the cases that went wrong (for error analysis)."""

    labels: Sequence[str]
    n: int = 0
    label_correct: int = 0
    unchanged: int = 0
    source_tp: int = 0
    source_suggested: int = 0
    source_gold: int = 0
    sources_exact: int = 0
    confusion: dict[tuple[str, str], int] = field(default_factory=dict)
    label_errors: list[Case] = field(default_factory=list)
    source_errors: list[Case] = field(default_factory=list)

    def add(self, case: Case) -> None:
        """Count one sentence."""
        self.n += 1
        predicted = case.suggested_label or "(none)"
        key = (case.gold_label, predicted)
        self.confusion[key] = self.confusion.get(key, 0) + 1
        if predicted == case.gold_label:
            self.label_correct += 1
        else:
            self.label_errors.append(case)
        suggested, gold = set(case.suggested_sources), set(case.gold_sources)
        self.source_tp += len(suggested & gold)
        self.source_suggested += len(suggested)
        self.source_gold += len(gold)
        if case.suggested_sources == case.gold_sources:
            self.sources_exact += 1
            if predicted == case.gold_label:
                self.unchanged += 1
        else:
            self.source_errors.append(case)

    def figures(self) -> dict[str, Any]:
        """Label accuracy, per-label precision/recall, source-set P/R/F1, accepted as is."""
        per_label = []
        for label in self.labels:
            tp = self.confusion.get((label, label), 0)
            predicted = sum(v for (_, p), v in self.confusion.items() if p == label)
            actual = sum(v for (g, _), v in self.confusion.items() if g == label)
            per_label.append(
                {
                    "label": label,
                    "gold": actual,
                    "suggested": predicted,
                    "precision": _share(tp, predicted),
                    "recall": _share(tp, actual),
                }
            )
        precision = _share(self.source_tp, self.source_suggested)
        recall = _share(self.source_tp, self.source_gold)
        f1 = (
            None
            if precision is None or recall is None or precision + recall == 0
            else 2 * precision * recall / (precision + recall)
        )
        return {
            "n_units": self.n,
            "label_accuracy": _share(self.label_correct, self.n),
            "per_label": per_label,
            "sources": {
                "precision": precision,
                "recall": recall,
                "f1": f1,
                "exact_list": _share(self.sources_exact, self.n),
            },
            "accepted_unchanged": _share(self.unchanged, self.n),
            "confusion": [
                {"gold": g, "suggested": p, "n": v} for (g, p), v in sorted(self.confusion.items())
            ],
        }


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def evaluate(cases: Iterable[Case], labels: Sequence[str]) -> Evaluation:
    """Count every case."""
    evaluation = Evaluation(labels=list(labels))
    for case in cases:
        evaluation.add(case)
    return evaluation


def project_cases(
    session: Session, project_id: int, *, with_text: bool = True
) -> tuple[list[Case], list[str]]:
    """Every sentence of the project with a gold label, with its suggestion; and the labels.

    ``with_text=False`` leaves each case's text empty (the figures do not need it,
    and cutting sentences out of every article costs half a second at 36,000 cases).
    """
    labels = dict(
        session.execute(
            select(Label.id, Label.name)
            .where(Label.project_id == project_id)
            .order_by(Label.position)
        ).all()
    )
    names = dict(
        session.execute(select(Source.id, Source.name).where(Source.project_id == project_id)).all()
    )
    gold_sources: dict[int, list[str]] = {}
    for gold_id, source_id in session.execute(
        select(GoldSource.gold_id, GoldSource.source_id)
        .join(Gold, Gold.id == GoldSource.gold_id)
        .join(Unit, Unit.id == Gold.unit_id)
        .join(Article, Article.id == Unit.article_id)
        .where(Article.project_id == project_id)
        .order_by(GoldSource.gold_id, GoldSource.position)
    ):
        gold_sources.setdefault(gold_id, []).append(names.get(source_id, f"#{source_id}"))
    rows = session.execute(
        select(
            Unit.id,
            Unit.suggested_label,
            Unit.suggested_sources,
            Gold.id,
            Gold.label_id,
            # The sentence only: offsets count code points, as substr does on both
            # engines; fetching the whole article per gold sentence cost seconds.
            func.substr(Article.text, Unit.start + 1, Unit.end - Unit.start)
            if with_text
            else literal(""),
        )
        .join(Gold, Gold.unit_id == Unit.id)
        .join(Article, Article.id == Unit.article_id)
        .where(Article.project_id == project_id, Unit.kind == "sentence")
        .where(Gold.label_id.is_not(None))
        .order_by(Unit.article_id, Unit.position)
    )
    cases = [
        Case(
            unit=unit_id,
            suggested_label=suggested,
            suggested_sources=tuple(names[s] for s in suggested_sources or () if s in names),
            gold_label=labels[label_id],
            gold_sources=tuple(gold_sources.get(gold_id, ())),
            text=text,
        )
        for unit_id, suggested, suggested_sources, gold_id, label_id, text in rows
    ]
    return cases, list(labels.values())


def evaluate_project(session: Session, project_id: int, *, with_text: bool = True) -> Evaluation:
    """Suggestions against gold for one project (``with_text``: see ``project_cases``)."""
    cases, labels = project_cases(session, project_id, with_text=with_text)
    return evaluate(cases, labels)


def evaluate_references(
    gold: Mapping[int, tuple[str, Sequence[str]]],
    suggestions: Mapping[int, tuple[str, Sequence[str]]],
    labels: Sequence[str],
) -> Evaluation:
    """Suggestions against gold from already loaded answers (unit → (label, sources)).

    The agreement dashboard has both in its ratings columns (``ratings_cache``, which
    holds the suggestion of every sentence); reading them again from the database
    cost it a second at 36,000 gold answers. A gold sentence without a suggestion
    counts as unsuggested.
    """
    cases = [
        Case(
            unit=unit,
            suggested_label=suggestions[unit][0] if unit in suggestions else None,
            suggested_sources=tuple(suggestions[unit][1]) if unit in suggestions else (),
            gold_label=label,
            gold_sources=tuple(sources),
        )
        for unit, (label, sources) in sorted(gold.items())
    ]
    return evaluate(cases, list(labels))

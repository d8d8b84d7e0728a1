"""What an import did, and the exception that carries why it refused."""

from __future__ import annotations

from dataclasses import dataclass, fields

# Enough to fix a file in one pass without drowning the terminal.
MAX_PROBLEMS_SHOWN = 50


class ImportProblems(ValueError):
    """An import refused as a whole; ``problems`` holds one readable line per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        shown = self.problems[:MAX_PROBLEMS_SHOWN]
        more = len(self.problems) - len(shown)
        lines = [f"nothing was imported ({len(self.problems)} problem(s)):", *shown]
        if more:
            lines.append(f"… and {more} more")
        super().__init__("\n".join(lines))


@dataclass(slots=True)
class ImportSummary:
    """Counts of what an import created, changed or found already present."""

    projects_created: int = 0
    projects_updated: int = 0
    labels_created: int = 0
    sources_created: int = 0
    users_created: int = 0
    articles_created: int = 0
    articles_matched: int = 0
    units_created: int = 0
    mentions_created: int = 0
    annotations_created: int = 0
    annotations_updated: int = 0
    annotations_unchanged: int = 0
    gold_created: int = 0
    gold_updated: int = 0
    gold_unchanged: int = 0

    @property
    def changed(self) -> bool:
        """Whether the import wrote anything at all."""
        return any(
            getattr(self, f.name)
            for f in fields(self)
            if not f.name.endswith(("_unchanged", "_matched"))
        )

    def as_dict(self) -> dict[str, int]:
        """The counts as a plain dict (for JSON output and logs)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def __str__(self) -> str:
        """One line naming the non-zero counts, e.g. '68 annotations unchanged'."""
        parts = []
        for f in fields(self):
            value = getattr(self, f.name)
            if value:
                thing, _, what = f.name.rpartition("_")
                parts.append(f"{value} {thing} {what}")
        return ", ".join(parts) if parts else "nothing to import"

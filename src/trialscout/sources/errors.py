"""The one error every source raises for a record it cannot read."""

from __future__ import annotations


class RecordError(ValueError):
    """A record that could not be read: where it came from and what was wrong with it.

    ``origin`` names the file (or ``archive.zip:member``, or ``file record 12``) and
    ``problem`` says what was wrong, starting with a short category before any colon
    ("not well-formed XML: ...") so skips can be counted by kind.
    """

    def __init__(self, origin: str, problem: str) -> None:
        super().__init__(origin, problem)
        self.origin = origin
        self.problem = problem

    def __str__(self) -> str:
        return f"{self.origin}: {self.problem}"

    def __repr__(self) -> str:
        return f"RecordError({self.origin!r}, {self.problem!r})"

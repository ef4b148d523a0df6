"""The one error every patient loader raises for input it cannot read."""

from __future__ import annotations


class PatientInputError(ValueError):
    """Patient input that could not be read: which input, where in it, and what was wrong.

    Messages name files, resources and field paths but never quote the values themselves, so the
    error can be shown or logged without leaking patient data.
    """

    def __init__(self, source: str, problem: str) -> None:
        super().__init__(source, problem)
        self.source = source
        self.problem = problem

    def __str__(self) -> str:
        return f"{self.source}: {self.problem}"

    def __repr__(self) -> str:
        return f"PatientInputError({self.source!r}, {self.problem!r})"


def error_path(loc: tuple[str | int, ...]) -> str:
    """pydantic ``loc`` -> "labs[2].value"."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def describe_validation(exc: Exception, *, limit: int = 3) -> str:
    """First few pydantic errors as "path: message" (the message only; pydantic's ``input_value``
    would repeat patient data)."""
    errors = getattr(exc, "errors", None)
    if not callable(errors):
        return type(exc).__name__
    items = errors(include_url=False, include_input=False)
    parts = [f"{error_path(tuple(e['loc']))}: {e['msg']}" for e in items[:limit]]
    more = len(items) - limit
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")

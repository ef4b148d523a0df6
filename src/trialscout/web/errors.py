"""Errors the web layer reports to the person (or program) that sent the request."""

from __future__ import annotations


class InputError(Exception):
    """Bad input: answered with ``status`` (400 unless said) and a message naming the field."""

    def __init__(self, message: str, *, field: str | None = None, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.status = status

    def as_dict(self) -> dict:
        return {"error": {"status": self.status, "message": self.message,
                          **({"field": self.field} if self.field else {})}}

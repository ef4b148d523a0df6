"""Web app and JSON API: ``create_app(db)`` serves the pages and /api/v1 over a read-only store.

``query`` reads search parameters, ``present`` says a trial in plain language, ``questionnaire`` turns
parsed criteria into "Am I a good fit?" questions, ``api`` and ``pages`` are the routes, ``render`` the
templates (autoescaped).
"""

from .app import create_app

__all__ = ["create_app"]

"""Problems a person can fix: each carries the catalogue key of its Dutch explanation."""

from __future__ import annotations

from typing import Any


class UserError(Exception):
    """The request cannot be done as asked; nothing is stored and the person is told why."""

    def __init__(self, key: str, **values: Any) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


class NotAllowed(UserError):
    """The person's role does not permit this."""

"""The one error the media package raises for bad client input."""

from __future__ import annotations

from swarm.errors import InvalidRequest


class MediaError(InvalidRequest):
    """A media item was refused; `param` names it (e.g. `messages[2].content[1]`).

    A subclass of `InvalidRequest`, so the server answers 400 with `param` set.
    """

    def __init__(self, message: str, *, param: str | None = None, code: str = "invalid_media"):
        super().__init__(message, param=param)
        self.code = code

    def at(self, param: str) -> MediaError:
        """Return the same error re-anchored on `param` (keeps the message and code)."""
        return MediaError(self.message, param=param, code=self.code)

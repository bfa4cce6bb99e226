"""One error family for labkit: every error a student or instructor can meet."""

from __future__ import annotations

__all__ = ["ERROR_CODES", "InvalidReference", "LabkitError", "LabkitTypeError", "RegistryError"]


class LabkitError(Exception):
    """Base class of every error labkit raises on purpose.

    ``str(error)`` names the mistake; ``hint``, when set, says how to fix it (in a notebook,
    labkit shows both in a short message instead of a traceback).
    """

    hint: str = ""


class LabkitTypeError(LabkitError, TypeError):
    """A labkit helper was given a value of the wrong type (a number where a name goes)."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint


class InvalidReference(LabkitError, ValueError):
    """An image reference Docker would reject.

    ``str(error)`` is Docker's exact text; ``hint`` says in plain words which rule was
    broken and where; ``text`` is the input as typed.
    """

    def __init__(self, message: str, hint: str = "", text: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.text = text

    def __str__(self) -> str:
        return self.message


# OCI distribution error codes: (distribution's message, HTTP status).
# Source: distribution/distribution registry/api/errcode/register.go (see facts/docker.md §9).
ERROR_CODES: dict[str, tuple[str, int]] = {
    "BLOB_UNKNOWN": ("blob unknown to registry", 404),
    "BLOB_UPLOAD_INVALID": ("blob upload invalid", 404),
    "BLOB_UPLOAD_UNKNOWN": ("blob upload unknown to registry", 404),
    "DIGEST_INVALID": ("provided digest did not match uploaded content", 400),
    "MANIFEST_BLOB_UNKNOWN": ("blob unknown to registry", 400),
    "MANIFEST_INVALID": ("manifest invalid", 400),
    "MANIFEST_UNKNOWN": ("manifest unknown", 404),
    "MANIFEST_UNVERIFIED": ("manifest failed signature verification", 400),
    "NAME_INVALID": ("invalid repository name", 400),
    "NAME_UNKNOWN": ("repository name not known to registry", 404),
    "PAGINATION_NUMBER_INVALID": ("invalid number of results requested", 400),
    "RANGE_INVALID": ("invalid content range", 416),
    "SIZE_INVALID": ("provided length did not match content length", 400),
    "TAG_INVALID": ("manifest tag did not match URI", 400),
    "UNAUTHORIZED": ("authentication required", 401),
    "DENIED": ("requested access to the resource is denied", 403),
    "UNSUPPORTED": ("The operation is unsupported.", 405),
    "TOOMANYREQUESTS": ("too many requests", 429),
    "UNKNOWN": ("unknown error", 500),
    "UNAVAILABLE": ("service unavailable", 503),
}


class RegistryError(LabkitError):
    """A registry refused an operation, as the OCI distribution API would.

    ``str(error)`` is what Docker prints for it: the code in lower case with spaces,
    a colon, then the message (``denied: requested access to the resource is denied``).
    """

    def __init__(self, code: str, message: str | None = None, detail: object = None) -> None:
        if code not in ERROR_CODES:
            raise ValueError(f"unknown registry error code {code!r}")
        default_message, status = ERROR_CODES[code]
        self.code = code
        self.message = default_message if message is None else message
        self.status = status
        self.detail = detail
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"{self.code.lower().replace('_', ' ')}: {self.message}"

    def to_json(self) -> dict:
        """The spec's error body entry: ``{"code", "message", "detail"}``."""
        entry: dict = {"code": self.code, "message": self.message}
        if self.detail is not None:
            entry["detail"] = self.detail
        return entry

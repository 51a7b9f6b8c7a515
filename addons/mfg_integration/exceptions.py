"""Business errors of the inbound pipeline: the API turns them into 422 problem+json."""

from odoo import _
from odoo.exceptions import UserError


class MfgBusinessError(UserError):
    """The event is well-formed but cannot be applied (missing lot, order already done...).

    ``path`` points at the offending member of the event's data (JSON pointer), when known.
    """

    def __init__(self, message, path=None):
        super().__init__(message)
        self.path = path


class MfgUnknownCode(MfgBusinessError):
    """An external code has no mapping and no fallback match."""

    def __init__(self, kind, code, path=None):
        # No environment here: _() finds the language from the caller's frame.
        message = _(  # pylint: disable=prefer-env-translation
            "Unknown %(kind)s code %(code)r: add a code mapping for this system.", kind=kind, code=code
        )
        super().__init__(message, path=path)
        self.kind = kind
        self.code = code


class MfgConfigurationError(Exception):
    """The event cannot be applied because of Odoo's configuration (no valid handler, no
    technical user): not the sender's fault, so a re-post of the event applies it again."""

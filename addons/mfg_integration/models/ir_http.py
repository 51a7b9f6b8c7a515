"""Errors on the inbound API (/api/mfg/v1) are RFC 9457 problem+json, auth errors included."""

import json
import logging
import uuid

import werkzeug.exceptions

from odoo import models
from odoo.exceptions import AccessDenied, AccessError, UserError
from odoo.http import SessionExpiredException, request

from ..lib import payload, problem

_logger = logging.getLogger(__name__)

API_PREFIX = "/api/mfg/v1/"


def problem_response(status, title, detail=None, *, slug=None, headers=None, **ext):
    body = problem.problem(status, title, detail, slug=slug, **ext)
    response = request.make_response(
        json.dumps(body), headers=[("Content-Type", problem.CONTENT_TYPE), *(headers or {}).items()], status=status
    )
    return response


class IrHttp(models.AbstractModel):
    _inherit = "ir.http"

    @classmethod
    def _handle_error(cls, exception):
        if not (request and request.httprequest.path.startswith(API_PREFIX)):
            return super()._handle_error(exception)
        return cls._mfg_problem_for(exception)

    @classmethod
    def _mfg_problem_for(cls, exception):
        if isinstance(exception, (AccessDenied, SessionExpiredException, werkzeug.exceptions.Unauthorized)):
            return problem_response(
                401,
                "Unauthorized",
                "Send an Odoo API key of the system's technical user as 'Authorization: Bearer <key>'.",
                slug="unauthorized",
                headers={"WWW-Authenticate": 'Bearer realm="mfg-integration"'},
            )
        if isinstance(exception, werkzeug.exceptions.HTTPException) and exception.code:
            headers = {}
            if isinstance(exception, werkzeug.exceptions.MethodNotAllowed) and exception.valid_methods:
                headers["Allow"] = ", ".join(exception.valid_methods)
            return problem_response(
                exception.code,
                exception.name,
                exception.description,
                slug=exception.name.lower().replace(" ", "-"),
                headers=headers,
            )
        if isinstance(exception, AccessError):
            # Odoo's text names the user and its id: logged, not answered.
            _logger.info("Inbound API access refused: %s", payload.log_safe(exception.args[0]))
            return problem_response(403, "Forbidden", "The API key's user may not do this.", slug="forbidden")
        if isinstance(exception, UserError):
            return problem_response(422, "Unprocessable content", exception.args[0], slug="business-error")
        incident = uuid.uuid4().hex
        _logger.error("Inbound API request failed, incident %s", incident, exc_info=exception)
        return problem_response(
            500, "Internal error", f"Internal error, incident {incident}.", slug="internal-error", incident=incident
        )

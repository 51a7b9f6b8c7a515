"""The inbound API (/api/mfg/v1): ``auth="mfg_api"`` with integration-scoped API keys, and
errors as RFC 9457 problem+json, auth errors included."""

import json
import logging
import re
import uuid

import werkzeug.exceptions

from odoo import models
from odoo.exceptions import AccessDenied, AccessError, UserError
from odoo.http import SessionExpiredException, request

from ..lib import payload, problem
from .res_users_apikeys import API_SCOPE, GLOBAL_KEYS_PARAM

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

    # -- auth="mfg_api": integration-scoped API keys -------------------------------

    @classmethod
    def _authenticate(cls, endpoint):
        if endpoint.routing.get("auth") == "mfg_api":
            # The scopes a route accepts (route option ``mfg_api_scopes``), read by _auth_method_mfg_api.
            request.mfg_api_scopes = tuple(endpoint.routing.get("mfg_api_scopes", (API_SCOPE,)))
        return super()._authenticate(endpoint)

    @classmethod
    def _auth_method_mfg_api(cls):
        """A Bearer API key of one of the route's scopes; sessions and cookies are never used.

        The scope the key has is in the context as ``mfg_api_scope`` (None: a global key accepted
        during the migration window, see GLOBAL_KEYS_PARAM).
        """
        header = request.httprequest.headers.get("Authorization") or ""
        match = re.match(r"^bearer\s+(\S+)$", header, re.IGNORECASE)
        if not match:
            raise werkzeug.exceptions.Unauthorized("Missing Bearer API key")
        scopes = getattr(request, "mfg_api_scopes", (API_SCOPE,))
        uid, scope = request.env["res.users.apikeys"]._mfg_check_credentials(match.group(1), scopes)
        if uid and scope is None:
            uid = cls._mfg_accept_global_key(uid)
        if not uid:
            raise werkzeug.exceptions.Unauthorized("Invalid API key")
        request.update_env(user=uid, context=dict(request.env.context, mfg_api_scope=scope))
        cls._auth_method_user()

    @classmethod
    def _mfg_accept_global_key(cls, uid):
        """``uid`` when global keys are still accepted on the API (migration window), else None."""
        # sudo: reads one system parameter, before any user is authenticated.
        if not request.env["ir.config_parameter"].sudo().get_param(GLOBAL_KEYS_PARAM):
            return None
        _logger.warning("User #%s used a global API key on the integration API: replace it by a scoped key", uid)
        request.future_response.headers["Deprecation"] = "true"
        return uid

    # -- errors: problem+json -------------------------------------------------------

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
                "Send an integration API key of the system's technical user (New API Key on the system form) "
                "as 'Authorization: Bearer <key>'.",
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

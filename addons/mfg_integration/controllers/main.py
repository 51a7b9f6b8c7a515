"""Inbound REST API, base path /api/mfg/v1 (see the OpenAPI document at /api/mfg/v1/openapi.json).

Authentication is ``auth='mfg_api'`` (models/ir_http.py): a Bearer API key of
scope ``mfg_integration`` of the system's technical user, made with the system
form's New API Key. Auth errors are turned into problem+json by ``ir.http._handle_error``
(models/ir_http.py). The pipeline itself lives on mfg.integration.message
(models/mfg_integration_message_inbound.py) and returns transport-neutral results (lib/inbox.py);
this controller parses HTTP and answers every result through lib/http_answer.py.
"""

import json
import logging

from werkzeug.exceptions import RequestEntityTooLarge

from odoo import _, http
from odoo.http import request

from ..lib import http_answer, inbox, openapi, payload, signing
from ..models.mfg_integration_event_type import SCHEMA_PATH

_logger = logging.getLogger(__name__)

API = "/api/mfg/v1"
EVENT_TYPES = ("application/cloudevents+json", "application/json")
BATCH_TYPES = ("application/cloudevents-batch+json", "application/json")


def _storable_id(event):
    """The event's id for a batch answer, when it is a string that can be answered as UTF-8."""
    event_id = event.get("id") if isinstance(event, dict) else None
    if not isinstance(event_id, str):
        return None
    try:
        event_id.encode()
    except UnicodeEncodeError:
        return None
    return event_id


def method_not_allowed(*allowed):
    """A 405 problem+json response unless the request uses one of ``allowed`` (also used by the
    monitoring routes: a route restricted with ``methods=`` would answer werkzeug's HTML 405)."""
    if request.httprequest.method in allowed:
        return None
    refusal = inbox.refusal(
        inbox.METHOD_NOT_ALLOWED,
        _("Method not allowed"),
        _("Use %(methods)s on this URL.", methods=", ".join(allowed)),
        slug="method-not-allowed",
    )
    return _respond(refusal, {"Allow": ", ".join(allowed)})


def _respond(result, extra_headers=None):
    """The HTTP response of an inbox result (``extra_headers``: what only HTTP says, e.g. Allow)."""
    status, headers, body = http_answer.http_answer(result)
    headers.update(extra_headers or {})
    return request.make_response(json.dumps(body), headers=list(headers.items()), status=status)


def _respond_document(document, status=200):
    """A JSON document that is no event's result (status, OpenAPI, resync pages, batch results)."""
    headers = [("Content-Type", "application/json"), ("Cache-Control", "no-store")]
    return request.make_response(json.dumps(document), headers=headers, status=status)


class MfgIntegrationApi(http.Controller):
    # -- common steps ---------------------------------------------------------

    def _messages(self):
        return request.env["mfg.integration.message"]

    def _authorized_system(self):
        """(system, None) or (None, refusal): linked system and rate limit."""
        Message = self._messages()
        system = Message._inbound_system()
        if not system:
            return None, inbox.refusal(
                inbox.FORBIDDEN,
                _("No system"),
                _("The API key's user is not linked to an active external system."),
                slug="no-system",
            )
        wait = Message._inbound_rate_check(system)
        if wait:
            return None, inbox.refusal(
                inbox.RATE_LIMITED,
                _("Too many requests"),
                _(
                    "System %(system)s may send %(limit)s requests per minute.",
                    system=system.code,
                    limit=system.rate_limit_per_minute,
                ),
                slug="rate-limited",
                retry_after=wait,
            )
        return system, None

    def _read_json(self, system, accepted_types):
        """(parsed body, None) or (None, refusal): type, size, signature, JSON."""
        httprequest = request.httprequest
        if httprequest.mimetype not in accepted_types:
            return None, inbox.refusal(
                inbox.UNSUPPORTED_MEDIA_TYPE,
                _("Unsupported media type"),
                _("Send the body as %(types)s.", types=" or ".join(accepted_types)),
                slug="unsupported-media-type",
            )
        limit = system.max_body_bytes
        too_large = inbox.refusal(
            inbox.TOO_LARGE,
            _("Body too large"),
            _("The body exceeds %(limit)s bytes.", limit=limit),
            slug="body-too-large",
        )
        if httprequest.content_length is not None and httprequest.content_length > limit:
            return None, too_large
        httprequest.max_content_length = limit  # also bounds a chunked body
        try:
            body = httprequest.get_data(cache=True)  # cached: Odoo may re-run the request
        except RequestEntityTooLarge:
            return None, too_large
        if len(body) > limit:
            return None, too_large
        if system.require_inbound_signature:
            try:
                signing.verify(system._inbound_secrets(), httprequest.headers, body)
            except signing.SignatureError as error:
                return None, inbox.refusal(
                    inbox.UNAUTHENTICATED,
                    _("Invalid signature"),
                    _("The webhook signature is missing, invalid or stale: %(error)s", error=error),
                    slug="invalid-signature",
                )
        try:
            return payload.parse_json(body), None
        except (ValueError, RecursionError) as error:
            return None, inbox.refusal(
                inbox.MALFORMED,
                _("Malformed JSON"),
                _("The body is not valid JSON: %(error)s", error=error),
                slug="malformed-json",
            )

    def _prefers_async(self):
        prefer = request.httprequest.headers.get("Prefer", "")
        return any(token.strip().lower() == "respond-async" for token in prefer.split(","))

    # -- routes -----------------------------------------------------------------

    @http.route(f"{API}/events", type="http", auth="mfg_api", csrf=False, save_session=False)
    def post_event(self, **_kwargs):
        response = method_not_allowed("POST")
        if response:
            return response
        system, refusal = self._authorized_system()
        if refusal:
            return _respond(refusal)
        event, refusal = self._read_json(system, EVENT_TYPES)
        if refusal:
            return _respond(refusal)
        key = request.httprequest.headers.get("Idempotency-Key") or None
        if system.require_inbound_signature and key is not None:
            # The signature covers the body (its CloudEvents id) and webhook-id, not this header:
            # a captured request re-sent with a fresh key must stay a replay of the same event.
            signed_ids = (request.httprequest.headers.get(signing.HEADER_ID), _storable_id(event))
            if key not in signed_ids:
                return _respond(
                    inbox.refusal(
                        inbox.REFUSED,
                        _("Idempotency key not signed"),
                        _("A signed event is identified by its id: send no Idempotency-Key or the event's id."),
                        slug="idempotency-key-not-signed",
                    )
                )
            key = None
        if key is not None and (len(key) > 200 or "\x00" in key):
            return _respond(
                inbox.refusal(
                    inbox.REFUSED,
                    _("Invalid idempotency key"),
                    _("Idempotency-Key is limited to 200 characters."),
                    slug="invalid-idempotency-key",
                )
            )
        return _respond(self._messages()._inbound_receive(system, event, key, self._prefers_async()))

    @http.route(f"{API}/events/batch", type="http", auth="mfg_api", csrf=False, save_session=False)
    def post_event_batch(self, **_kwargs):
        response = method_not_allowed("POST")
        if response:
            return response
        system, refusal = self._authorized_system()
        if refusal:
            return _respond(refusal)
        events, refusal = self._read_json(system, BATCH_TYPES)
        if refusal:
            return _respond(refusal)
        if not isinstance(events, list) or len(events) > openapi.MAX_BATCH:
            return _respond(
                inbox.refusal(
                    inbox.REFUSED,
                    _("Invalid batch"),
                    _("The body must be a JSON array of at most %(max)s events.", max=openapi.MAX_BATCH),
                    slug="invalid-batch",
                )
            )
        received = self._messages()._inbound_receive_batch(system, events, self._prefers_async())
        results = []
        for index, (event, result) in enumerate(zip(events, received, strict=True)):
            # The batch's messages are stored together (one commit); then each event stands alone:
            # its business effect and outcome are committed before the next one is applied, so that
            # the batch holds no lock on orders or stock longer than one event.
            request.env.cr.commit()
            status, _headers, body = http_answer.http_answer(result)
            results.append(
                {"index": index, "id": _storable_id(event), "status": status, "replayed": result.replayed, "body": body}
            )
        return _respond_document({"results": results}, status=207)

    @http.route(f"{API}/messages/<int:message_id>", type="http", auth="mfg_api", csrf=False, save_session=False)
    def get_message(self, message_id, **_kwargs):
        response = method_not_allowed("GET", "HEAD")
        if response:
            return response
        system, refusal = self._authorized_system()
        if refusal:
            return _respond(refusal)
        # sudo: restricted right below to an inbound message of the caller's own system.
        message = self._messages().sudo().browse(message_id).exists()
        if not message or message.direction != "inbound" or message.system_id != system:
            return _respond(
                inbox.refusal(
                    inbox.NOT_FOUND,
                    _("Not found"),
                    _("No message %(id)s from your system.", id=message_id),
                    slug="not-found",
                )
            )
        document = message._inbound_status_document()
        # The outcome as this API answers it (what a re-post of the event gets).
        document = {
            ("http_status" if key == "outcome" else key): (http_answer.status_of(value) if key == "outcome" else value)
            for key, value in document.items()
        }
        return _respond_document(document)

    @http.route(f"{API}/openapi.json", type="http", auth="public", csrf=False, save_session=False, readonly=True)
    def openapi_document(self, **_kwargs):
        response = method_not_allowed("GET", "HEAD")
        if response:
            return response
        # sudo: the catalog of event types and their schemas is public API documentation.
        event_types = request.env["mfg.integration.event.type"].sudo().search([])
        inbound = event_types.filtered(lambda t: t.direction == "inbound")
        outbound = event_types - inbound
        document = openapi.build_document(
            [
                {"code": t.code, "name": t.name, "description": t.description, "schema": t.parsed_schema()}
                for t in inbound
            ],
            server_url=request.httprequest.host_url.rstrip("/"),
            outbound_types=[
                {
                    "code": t.code,
                    "name": t.name,
                    "description": t.description,
                    "schema": t.parsed_schema(),
                    "dataschema": t.dataschema_uri(),
                }
                for t in outbound
            ],
            resync=self._resync_resources(),
        )
        return _respond_document(document)

    def _resync_resources(self):
        """The resync routes domain addons add: [{path, event_type, summary}] (see lib/openapi.py)."""
        return []

    # -- published schemas (the CloudEvents ``dataschema`` URLs) --------------------------

    @http.route(
        f"{SCHEMA_PATH}/<string:code>.json", type="http", auth="public", csrf=False, save_session=False, readonly=True
    )
    def data_schema(self, code, **_kwargs):
        """The JSON Schema of an event type's data, as enforced; public and cacheable."""
        response = method_not_allowed("GET", "HEAD")
        if response:
            return response
        # sudo: the catalog of event types and their schemas is public API documentation.
        event_type = request.env["mfg.integration.event.type"].sudo()._get_by_code(code)
        if not event_type:
            return _respond(
                inbox.refusal(
                    inbox.NOT_FOUND, _("Not found"), _("No event type %(code)s.", code=code), slug="not-found"
                )
            )
        schema = dict(event_type.parsed_schema(), **{"$id": event_type.dataschema_uri()})
        body = payload.canonical_json(schema)
        digest = payload.sha256_hex(body)
        headers = [
            ("Content-Type", openapi.SCHEMA_CONTENT_TYPE),
            ("Cache-Control", "public, max-age=3600"),
            ("ETag", f'"{digest}"'),
        ]
        if request.httprequest.if_none_match.contains(digest):
            return request.make_response("", headers=headers[1:], status=304)
        return request.make_response(body, headers=headers)

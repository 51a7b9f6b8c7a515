"""Resync API: an external system reinstalled or restored from backup asks for what it should hold.

GET /api/mfg/v1/transfers?state=open lists the open transfers released to the calling system (see
stock.picking._mfg_released_domain), as the released events carried them, in the system's codes.
"""

from odoo import http
from odoo.http import request

from odoo.addons.mfg_integration.controllers.main import (
    API,
    MfgIntegrationApi,
    _respond,
    _respond_document,
    method_not_allowed,
)
from odoo.addons.mfg_integration.lib import inbox

DEFAULT_PAGE = 50
MAX_PAGE = 200


class MfgIntegrationResyncApi(MfgIntegrationApi):
    def _resync_page(self, model, path):
        """One page of the caller's open records of ``model``, as their released payloads.

        ``model`` provides ``_mfg_resync_domain(system)`` (its open records released to the system)
        and ``_mfg_current_state()`` (event type, payload builder) per record. Pages follow the record
        id: ``after`` is the last id of the previous page, ``next`` the URL of the next page (null on
        the last one)."""
        response = method_not_allowed("GET", "HEAD")
        if response:
            return response
        system, refusal = self._authorized_system()
        if refusal:
            return _respond(refusal)
        args = request.httprequest.args
        state = args.get("state", "open")
        try:
            limit = int(args.get("limit", DEFAULT_PAGE))
            after = int(args.get("after", 0))
        except ValueError:
            limit = after = -1
        if state != "open" or not 1 <= limit <= MAX_PAGE or after < 0:
            return _respond(
                inbox.refusal(
                    inbox.MALFORMED,
                    request.env._("Invalid query"),
                    request.env._(
                        "Use state=open, limit between 1 and %(max)s and after = the last id of the previous page.",
                        max=MAX_PAGE,
                    ),
                    slug="invalid-query",
                )
            )
        # The caller's own rights: its technical user reads the documents its system works on.
        Model = request.env[model].with_company(system.company_id)
        records = Model.search([*Model._mfg_resync_domain(system), ("id", ">", after)], order="id", limit=limit + 1)
        page = records[:limit]
        # sudo: the catalog of event types is configuration (see mfg.integration.message.emit).
        EventType = request.env["mfg.integration.event.type"].sudo()
        items = []
        for record in page:
            code, builder = record._mfg_current_state()
            items.append(EventType._get_by_code(code, "outbound")._data_for_system(builder(), system))
        next_url = f"{API}/{path}?state=open&limit={limit}&after={page[-1].id}" if len(records) > limit else None
        return _respond_document({"items": items, "next": next_url})

    def _resync_resources(self):
        return [
            *super()._resync_resources(),
            {
                "path": "transfers",
                "event_type": "mfg.inventory.transfer_released.v1",
                "summary": "Open transfers released to the caller's system, as their released events' data",
            },
        ]

    @http.route(f"{API}/transfers", type="http", auth="mfg_api", csrf=False, save_session=False)
    def transfers(self, **_kwargs):
        return self._resync_page("stock.picking", "transfers")

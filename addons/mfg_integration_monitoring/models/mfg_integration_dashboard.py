"""Numbers of the support dashboard, /health and /metrics: a few SQL aggregates.

Every query reads only unfinished messages or messages delivered in the last
24 hours, through the partial indexes created in mfg_integration_message.py,
and is filtered by company ids: the cost follows the backlog and the day's
traffic, not the size of the message table.
"""

from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

from odoo.addons.mfg_integration.lib import circuit

OPEN_STATES = ("pending", "in_progress", "retry")
UNFINISHED_STATES = (*OPEN_STATES, "dead")
FAILED_STATES = ("retry", "dead")
WINDOW = timedelta(hours=24)
# What _transport_stats adds up per transport ("in_progress": the messages in flight).
TRANSPORT_COUNTS = ("pending", "in_progress", "retry", "dead", "failed_24h", "delivered_24h")
# SLA conditions about messages (other addons add conditions about other records).
MESSAGE_CONDITIONS = ("unprocessed", "failed")


class MfgIntegrationDashboard(models.AbstractModel):
    _name = "mfg.integration.dashboard"
    _description = "Integration Monitoring Dashboard"

    # -- aggregates (shared with the health and metrics endpoints) -------------

    @api.model
    def _queue_stats(self, company_ids, now=None, by_type=False):
        """{(system_id, endpoint_id, direction[, event_type_id]): {...numbers}} for the companies."""
        now = now or fields.Datetime.now()
        since = now - WINDOW
        width = 4 if by_type else 3
        stats = {}

        def entry(row):
            key = tuple(row[:width])
            return stats.setdefault(
                key,
                {
                    "pending": 0,
                    "in_progress": 0,
                    "retry": 0,
                    "dead": 0,
                    "oldest_pending": None,
                    "failed_24h": 0,
                    "delivered_24h": 0,
                    "p50_ms": None,
                    "p95_ms": None,
                    "last_done_at": None,
                },
            )

        unfinished_query, done_query = self._stats_queries(company_ids, since, by_type)
        self.env.cr.execute(unfinished_query)
        for row in self.env.cr.fetchall():
            values = entry(row)
            pending, in_progress, retry, dead, oldest, failed = row[width:]
            values.update(
                pending=pending,
                in_progress=in_progress,
                retry=retry,
                dead=dead,
                oldest_pending=oldest,
                failed_24h=failed,
            )
        self.env.cr.execute(done_query)
        for row in self.env.cr.fetchall():
            delivered, p50, p95, last_done = row[width:]
            entry(row).update(
                delivered_24h=delivered,
                last_done_at=last_done,
                p50_ms=round(p50) if p50 is not None else None,
                p95_ms=round(p95) if p95 is not None else None,
            )
        return stats

    @api.model
    def _stats_queries(self, company_ids, since, by_type=False):
        """The two aggregates: unfinished messages, and messages delivered since ``since``."""
        key_columns = SQL(
            "system_id, endpoint_id, direction, event_type_id" if by_type else "system_id, endpoint_id, direction"
        )
        unfinished = SQL(
            """
            SELECT %(keys)s,
                   count(*) FILTER (WHERE state = 'pending'),
                   count(*) FILTER (WHERE state = 'in_progress'),
                   count(*) FILTER (WHERE state = 'retry'),
                   count(*) FILTER (WHERE state = 'dead'),
                   min(create_date) FILTER (WHERE state IN %(open)s),
                   count(*) FILTER (WHERE state IN %(failed)s AND create_date >= %(since)s)
              FROM mfg_integration_message
             WHERE state IN %(unfinished)s AND company_id = ANY(%(companies)s)
             GROUP BY %(keys)s
            """,
            keys=key_columns,
            open=OPEN_STATES,
            failed=FAILED_STATES,
            unfinished=UNFINISHED_STATES,
            since=since,
            companies=list(company_ids),
        )
        done = SQL(
            """
            SELECT %(keys)s, count(*),
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms),
                   percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms),
                   max(done_at)
              FROM mfg_integration_message
             WHERE state = 'done' AND done_at >= %(since)s AND company_id = ANY(%(companies)s)
             GROUP BY %(keys)s
            """,
            keys=key_columns,
            since=since,
            companies=list(company_ids),
        )
        return unfinished, done

    @api.model
    def _transport_stats(self, company_ids, stats, system_id=None):
        """{transport: {...numbers}} of the active outbound endpoints by transport (webhook, MQTT, AMQP), from
        ``stats`` (_queue_stats) and the endpoints' circuit histories: ``unreachable`` lists the endpoints
        whose last attempt got no answer at all (broker or receiver down, refused, timed out), ``connected``
        counts the others; ``last_delivery_at`` is the last delivery of the last 24 hours."""
        self.env.cr.execute(
            SQL(
                """
                SELECT e.id, e.transport, e.name, s.code, COALESCE(e.circuit_history, '') LIKE %(unreachable)s
                  FROM mfg_integration_endpoint e
                  JOIN mfg_integration_system s ON s.id = e.system_id
                 WHERE e.active AND e.company_id = ANY(%(companies)s)
                   AND (%(system)s IS NULL OR e.system_id = %(system)s)
                """,
                unreachable=f"%{circuit.UNREACHABLE}",
                companies=list(company_ids),
                system=system_id,
            )
        )
        transports = {}
        endpoint_figures = {}
        for endpoint_id, transport, name, system_code, unreachable in self.env.cr.fetchall():
            figures = transports.setdefault(
                transport,
                dict.fromkeys(TRANSPORT_COUNTS, 0) | {"connected": 0, "unreachable": [], "last_delivery_at": None},
            )
            endpoint_figures[endpoint_id] = figures
            if unreachable:
                figures["unreachable"].append(f"{system_code}/{name}")
            else:
                figures["connected"] += 1
        for key, values in stats.items():  # keys (system, endpoint, direction[, event type])
            figures = endpoint_figures.get(key[1]) if key[2] == "outbound" else None
            if figures:
                for count in TRANSPORT_COUNTS:
                    figures[count] += values[count]
                figures["last_delivery_at"] = max(
                    filter(None, (figures["last_delivery_at"], values["last_done_at"])), default=None
                )
        return transports

    @api.model
    def _sla_breaches(self, company_ids=None, now=None):
        """{(sla_id, system_id): (count, oldest create_date)}: messages breaching an active SLA."""
        now = now or fields.Datetime.now()
        company_filter = SQL("AND m.company_id = ANY(%s)", list(company_ids)) if company_ids is not None else SQL()
        self.env.cr.execute(
            SQL(
                """
                SELECT s.id, m.system_id, count(*), min(m.create_date)
                  FROM mfg_integration_sla s
                  JOIN mfg_integration_message m
                    ON m.event_type_id = s.event_type_id
                   AND m.company_id = s.company_id
                   AND (s.system_id IS NULL OR m.system_id = s.system_id)
                 WHERE s.active
                   AND m.system_id IS NOT NULL
                   AND m.state IN %(unfinished)s
                   AND m.create_date < %(now)s - make_interval(mins => s.max_age_minutes)
                   AND (s.condition = 'unprocessed' OR m.state IN %(failed)s)
                   AND s.condition IN %(message_conditions)s
                   %(company_filter)s
                 GROUP BY s.id, m.system_id
                """,
                unfinished=UNFINISHED_STATES,
                failed=FAILED_STATES,
                message_conditions=MESSAGE_CONDITIONS,
                now=now,
                company_filter=company_filter,
            )
        )
        return {(sla_id, system_id): (count, oldest) for sla_id, system_id, count, oldest in self.env.cr.fetchall()}

    @api.model
    def _extra_metrics(self, company_ids):
        """Hook for other addons: more /metrics gauges, as [(name, kind, help, [(labels, value)])]."""
        return []

    # -- the dashboard -----------------------------------------------------------

    @api.model
    def get_dashboard_data(self):
        """Everything the dashboard shows, for the user's allowed companies (one RPC)."""
        Message = self.env["mfg.integration.message"]
        Message.check_access("read")
        Message.flush_model()
        self.env["mfg.integration.endpoint"].flush_model()
        now = fields.Datetime.now()
        company_ids = self.env.companies.ids
        stats = self._queue_stats(company_ids, now)

        systems = self.env["mfg.integration.system"].search([("company_id", "in", company_ids)])
        cards = {}
        for system in systems:
            for endpoint in system.endpoint_ids:
                cards[(system.id, endpoint.id, "outbound")] = None
            if system.inbound_event_type_ids:
                cards[(system.id, None, "inbound")] = None
        for key in stats:
            cards.setdefault(key, None)

        result = []
        Endpoint = self.env["mfg.integration.endpoint"].with_context(active_test=False)
        System = self.env["mfg.integration.system"].with_context(active_test=False)
        for system_id, endpoint_id, direction in cards:
            if not system_id:
                continue
            system = System.browse(system_id)
            endpoint = Endpoint.browse(endpoint_id) if endpoint_id else Endpoint
            result.append(self._card(system, endpoint, direction, stats.get((system_id, endpoint_id, direction)), now))
        result.sort(
            key=lambda c: (
                -(c["dead"] + c["failed_24h"]),
                c["circuit_state"] == "closed",
                -(c["oldest_pending_age"] or 0),
                c["system_name"],
                c["endpoint_name"] or "",
            )
        )

        sla_breaches = []
        slas = self.env["mfg.integration.sla"].with_context(active_test=False)
        for (sla_id, system_id), (count, oldest) in self._sla_breaches(company_ids, now).items():
            sla, system = slas.browse(sla_id), System.browse(system_id)
            sla_breaches.append(
                {
                    "sla_id": sla.id,
                    "sla_name": sla.name,
                    "system_id": system.id,
                    "system_name": system.display_name,
                    "count": count,
                    "oldest_age": int((now - oldest).total_seconds()),
                    "max_age_minutes": sla.max_age_minutes,
                }
            )
        sla_breaches.sort(key=lambda b: (-b["oldest_age"], b["sla_name"]))
        totals = {
            name: sum(card[name] for card in result) for name in ("pending", "delivered_24h", "failed_24h", "dead")
        }
        totals["open_circuits"] = sum(1 for card in result if card["circuit_state"] != "closed")
        totals["sla_breaches"] = sum(b["count"] for b in sla_breaches)
        transport_labels = dict(Endpoint._fields["transport"]._description_selection(self.env))
        transports = [
            dict(
                figures,
                transport=transport,
                label=transport_labels.get(transport, transport),
                unreachable=", ".join(figures["unreachable"]),
                last_delivery_at=fields.Datetime.to_string(figures["last_delivery_at"]) or False,
            )
            for transport, figures in sorted(self._transport_stats(company_ids, stats).items())
        ]
        return {
            "cards": result,
            "transports": transports,
            "sla_breaches": sla_breaches,
            "totals": totals,
            "generated_at": fields.Datetime.to_string(now),
        }

    @api.model
    def _card(self, system, endpoint, direction, values, now):
        values = dict(values or {})
        delivered, failed = values.get("delivered_24h", 0), values.get("failed_24h", 0)
        oldest = values.get("oldest_pending")
        dead = values.get("dead", 0)
        circuit = endpoint.circuit_state if endpoint else "closed"
        pending = values.get("pending", 0) + values.get("in_progress", 0) + values.get("retry", 0)
        status = "ok"
        if dead or circuit != "closed":
            status = "danger"
        elif failed or values.get("retry"):
            status = "warning"
        return {
            "key": f"{system.id}-{endpoint.id or 0}-{direction}",
            "system_id": system.id,
            "system_name": system.display_name,
            "system_code": system.code,
            "endpoint_id": endpoint.id or False,
            "endpoint_name": endpoint.display_name if endpoint else False,
            "direction": direction,
            "pending": pending,
            "oldest_pending_age": int((now - oldest).total_seconds()) if oldest else None,
            "delivered_24h": delivered,
            "failed_24h": failed,
            "failure_rate": round(100.0 * failed / (delivered + failed), 1) if delivered + failed else None,
            "p50_ms": values.get("p50_ms"),
            "p95_ms": values.get("p95_ms"),
            "dead": dead,
            "circuit_state": circuit,
            "consecutive_failures": endpoint.consecutive_failures if endpoint else 0,
            "transport": dict(endpoint._fields["transport"]._description_selection(self.env)).get(endpoint.transport)
            if endpoint
            else False,
            "consumers": self._consumer_states(system) if direction == "inbound" else [],
            "status": status,
        }

    @api.model
    def _consumer_states(self, system):
        """The broker consumers (MQTT, AMQP subscriptions) feeding this system's inbox."""
        # sudo: the runner's technical state of a system the user can read.
        states = self.env["mfg.integration.broker.consumer"].sudo().search([("system_id", "=", system.id)])
        down = set(self.env["mfg.integration.broker.consumer"]._down_consumer_keys(system.company_id.ids, system.id))
        return [
            {
                "key": state.key,
                "transport": state.transport,
                "connected": state.key not in down,
                "last_message_at": fields.Datetime.to_string(state.last_message_at) if state.last_message_at else False,
                "refused_count": state.refused_count,
                "last_error": state.last_error or False,
            }
            for state in states
        ]

    @api.model
    def _messages_domain(self, kind, system_id=None, endpoint_id=None, direction=None, now=None):
        since = fields.Datetime.to_string((now or fields.Datetime.now()) - WINDOW)
        domain = []
        if system_id:
            domain.append(("system_id", "=", system_id))
        if endpoint_id:
            domain.append(("endpoint_id", "=", endpoint_id))
        if direction:
            domain.append(("direction", "=", direction))
        domain += {
            "pending": [("state", "in", OPEN_STATES)],
            "delivered_24h": [("state", "=", "done"), ("done_at", ">=", since)],
            "failed_24h": [("state", "in", FAILED_STATES), ("create_date", ">=", since)],
            "dead": [("state", "=", "dead")],
            "all": [],
        }[kind]
        return domain

    @api.model
    def action_open_messages(self, kind, system_id=None, endpoint_id=None, direction=None, sla_id=None):
        """The message list behind one number of the dashboard."""
        labels = {
            "pending": self.env._("Pending"),
            "delivered_24h": self.env._("Delivered / processed (24 h)"),
            "failed_24h": self.env._("Failed (24 h)"),
            "dead": self.env._("Dead letters"),
            "sla": self.env._("SLA breaches"),
            "all": self.env._("Messages"),
        }
        if kind == "sla":
            sla = self.env["mfg.integration.sla"].browse(sla_id)
            domain = sla._breach_domain()
            if system_id:
                domain.append(("system_id", "=", system_id))
            parts = [sla.name]
        else:
            domain = self._messages_domain(kind, system_id, endpoint_id, direction)
            parts = [
                self.env["mfg.integration.system"].browse(system_id).display_name if system_id else None,
                self.env["mfg.integration.endpoint"].browse(endpoint_id).display_name
                if endpoint_id
                else (self.env._("Inbound") if direction == "inbound" else None),
            ]
        action = self.env["ir.actions.act_window"]._for_xml_id("mfg_integration.mfg_integration_message_action")
        action.update(
            name=" / ".join(filter(None, [*parts, labels[kind]])),
            domain=domain,
            context={},
            views=[(False, "list"), (False, "form")],
            view_mode="list,form",
        )
        return action

"""External monitoring: GET /api/mfg/v1/health and GET /api/mfg/v1/metrics.

Both take an API key of scope ``mfg_integration_monitoring`` of an Integration User
(``Authorization: Bearer <key>``, ``auth='mfg_api'``); numbers cover the companies of the
key's user. ``/health`` also answers a system's own key (scope ``mfg_integration``) with
that system's figures. Errors are problem+json like the rest of /api/mfg/v1
(mfg_integration/models/ir_http.py).
"""

import json
from datetime import timezone

from odoo import fields, http
from odoo.http import request
from odoo.tools import SQL

from odoo.addons.mfg_integration.controllers.main import method_not_allowed
from odoo.addons.mfg_integration.models.ir_http import problem_response
from odoo.addons.mfg_integration.models.res_users_apikeys import API_SCOPE, MONITORING_SCOPE

from ..models.mfg_integration_dashboard import UNFINISHED_STATES

API = "/api/mfg/v1"
PROMETHEUS_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_QUANTILES = (("0.5", "p50_ms"), ("0.95", "p95_ms"))


def _label(value):
    text = str(value if value not in (None, False) else "")
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(**labels):
    return "{" + ",".join(f'{name}="{_label(value)}"' for name, value in labels.items()) + "}"


class MfgIntegrationMonitoringApi(http.Controller):
    def _monitoring_user(self):
        """(company ids, None) or (None, a 403 response) for the key's user."""
        user = request.env.user
        if not user.has_group("mfg_integration.group_mfg_integration_user"):
            return None, problem_response(
                403,
                "Forbidden",
                request.env._("Monitoring needs an API key of an Integration User."),
                slug="forbidden",
            )
        return user.company_ids.ids, None

    def _no_system(self):
        return problem_response(
            403,
            "Forbidden",
            request.env._("The API key's user is not linked to an active external system."),
            slug="no-system",
        )

    @http.route(
        f"{API}/health",
        type="http",
        auth="mfg_api",
        mfg_api_scopes=(MONITORING_SCOPE, API_SCOPE),
        csrf=False,
        save_session=False,
        readonly=True,
    )
    def health(self, **_kwargs):
        response = method_not_allowed("GET", "HEAD")
        if response:
            return response
        if request.env.context.get("mfg_api_scope") == API_SCOPE:
            # A system's own key: its own figures, whatever the technical user's other rights.
            system = request.env["mfg.integration.message"]._inbound_system()
            if not system:
                return self._no_system()
            document = health_document(request.env, system.company_id.ids, system_id=system.id)
        else:
            company_ids, error = self._monitoring_user()
            if error:
                return error
            document = health_document(request.env, company_ids)
        status = 503 if document["status"] == "failing" else 200
        return request.make_response(
            json.dumps(document),
            headers=[("Content-Type", "application/json"), ("Cache-Control", "no-store")],
            status=status,
        )

    @http.route(
        f"{API}/metrics",
        type="http",
        auth="mfg_api",
        mfg_api_scopes=(MONITORING_SCOPE,),
        csrf=False,
        save_session=False,
        readonly=True,
    )
    def metrics(self, **_kwargs):
        response = method_not_allowed("GET", "HEAD")
        if response:
            return response
        company_ids, error = self._monitoring_user()
        if error:
            return error
        text = prometheus_text(request.env, company_ids)
        return request.make_response(text, headers=[("Content-Type", PROMETHEUS_TYPE), ("Cache-Control", "no-store")])


def health_document(env, company_ids, system_id=None):
    """Queue status in two index-only aggregates: cheap enough to poll every few seconds.

    ``system_id``: only that system's messages and endpoints.
    """
    system_filter = SQL("AND system_id = %s", system_id) if system_id else SQL()
    now = fields.Datetime.now()
    params = env["ir.config_parameter"].sudo()  # sudo: reads two thresholds, not secrets
    degraded_age = int(params.get_param("mfg_integration_monitoring.health_degraded_age", 300))
    failing_age = int(params.get_param("mfg_integration_monitoring.health_failing_age", 1800))
    env.cr.execute(
        SQL(
            """
            SELECT count(*) FILTER (WHERE state = 'pending'),
                   count(*) FILTER (WHERE state = 'in_progress'),
                   count(*) FILTER (WHERE state = 'retry'),
                   count(*) FILTER (WHERE state = 'dead'),
                   min(create_date) FILTER (WHERE state <> 'dead')
              FROM mfg_integration_message
             WHERE state IN %s AND company_id = ANY(%s) %s
            """,
            UNFINISHED_STATES,
            list(company_ids),
            system_filter,
        )
    )
    pending, in_progress, retry, dead, oldest = env.cr.fetchone()
    env.cr.execute(
        SQL(
            """
            SELECT count(*) FROM mfg_integration_endpoint
             WHERE active AND circuit_open_until IS NOT NULL AND company_id = ANY(%s) %s
            """,
            list(company_ids),
            system_filter,
        )
    )
    open_circuits = env.cr.fetchone()[0]
    age = int((now - oldest).total_seconds()) if oldest else 0
    stalled_age = int(params.get_param("mfg_integration_monitoring.health_dispatcher_age", 180))
    dispatcher_idle = _dispatcher_idle_seconds(env, company_ids)
    Consumer = env["mfg.integration.broker.consumer"]
    consumers_down = Consumer._down_consumer_keys(company_ids, system_id=system_id)
    transports = env["mfg.integration.dashboard"]._transport_stats(company_ids, {}, system_id=system_id)
    # A webhook receiver that does not answer is the circuit breaker's business; a broker serves every subscriber.
    brokers_unreachable = [
        name
        for transport, figures in transports.items()
        if transport != "http_webhook"
        for name in figures["unreachable"]
    ]
    reasons = []
    if open_circuits:
        reasons.append("circuit_open")
    if consumers_down:
        reasons.append("broker_consumer_down")
    if brokers_unreachable:
        reasons.append("broker_unreachable")
    if dispatcher_idle is not None and dispatcher_idle > stalled_age:
        reasons.append("dispatcher_not_running")
    if age > failing_age:
        reasons.append("backlog_too_old")
    status = "failing" if reasons else "ok"
    if status == "ok":
        if dead:
            reasons.append("dead_letters")
        if retry:
            reasons.append("retrying")
        if age > degraded_age:
            reasons.append("backlog_old")
        status = "degraded" if reasons else "ok"
    return {
        "status": status,
        "reasons": reasons,
        "checked_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "pending": pending,
        "in_progress": in_progress,
        "retry": retry,
        "dead": dead,
        "oldest_pending_age_seconds": age,
        "open_circuits": open_circuits,
        "dispatcher_idle_seconds": dispatcher_idle,
        "broker_consumers_down": consumers_down,
        "brokers_unreachable": brokers_unreachable,
    }


def _dispatcher_idle_seconds(env, company_ids):
    """Seconds since a dispatcher slot last ran while messages have been due for longer than that,
    or None when nothing waits: a dispatcher that died (cron thread lost its database) is noticed."""
    crons = env["mfg.integration.message"]._dispatch_crons()
    env.cr.execute(
        SQL(
            """
            SELECT CASE WHEN count(*) > 0 THEN extract(epoch FROM (now() AT TIME ZONE 'UTC')
                       - GREATEST((SELECT max(lastcall) FROM ir_cron WHERE id = ANY(%s)), min(m.next_attempt_at)))::int
                   END
              FROM mfg_integration_message m
              JOIN mfg_integration_endpoint e ON e.id = m.endpoint_id
             WHERE m.direction = 'outbound' AND m.state IN ('pending', 'retry')
               AND m.next_attempt_at <= (now() AT TIME ZONE 'UTC') AND e.active
               AND (e.circuit_open_until IS NULL OR e.circuit_open_until <= (now() AT TIME ZONE 'UTC'))
               AND m.company_id = ANY(%s)
            """,
            crons.ids,
            list(company_ids),
        )
    )
    return env.cr.fetchone()[0]


def prometheus_text(env, company_ids):
    """Prometheus text exposition (version 0.0.4) of the queue, by system, type and state."""
    Dashboard = env["mfg.integration.dashboard"]
    stats = Dashboard._queue_stats(company_ids, by_type=True)
    now = fields.Datetime.now()
    # sudo: only names of records of the key user's own companies (rows filtered by company_ids above).
    systems = env["mfg.integration.system"].sudo().with_context(active_test=False)
    types = env["mfg.integration.event.type"].sudo().with_context(active_test=False)
    endpoints = env["mfg.integration.endpoint"].sudo().with_context(active_test=False)
    system_ids = {key[0] for key in stats if key[0]}
    type_ids = {key[3] for key in stats}
    system_codes = {s.id: s.code for s in systems.browse(system_ids)}
    type_codes = {t.id: t.code for t in types.browse(type_ids)}

    lines = []

    def metric(name, kind, help_text, samples):
        lines.append(f"# HELP {name} {help_text}")
        lines.append(f"# TYPE {name} {kind}")
        for labels, value in samples:
            lines.append(f"{name}{_labels(**labels)} {value}")

    def base(key):
        system_id, _endpoint_id, direction, type_id = key
        return {
            "system": system_codes.get(system_id, ""),
            "direction": direction,
            "event_type": type_codes.get(type_id),
        }

    ordered = sorted(stats.items(), key=lambda item: (str(base(item[0])), item[0][1] or 0))
    # Outbound keys carry an endpoint: sum them per (system, direction, type).
    merged = {}
    for key, values in ordered:
        labels = tuple(base(key).items())
        target = merged.setdefault(labels, {"latency": []})
        for name in ("pending", "in_progress", "retry", "dead", "failed_24h", "delivered_24h"):
            target[name] = target.get(name, 0) + values[name]
        if values["oldest_pending"]:
            age = int((now - values["oldest_pending"]).total_seconds())
            target["oldest"] = max(target.get("oldest", 0), age)
        if values["delivered_24h"]:
            target["latency"].append(values)
    metric(
        "mfg_integration_messages",
        "gauge",
        "Unfinished integration messages by state.",
        [
            (dict(labels, state=state), values[state])
            for labels, values in merged.items()
            for state in ("pending", "in_progress", "retry", "dead")
        ],
    )
    metric(
        "mfg_integration_messages_delivered_24h",
        "gauge",
        "Messages delivered (outbound) or processed (inbound) in the last 24 hours.",
        [(dict(labels), values["delivered_24h"]) for labels, values in merged.items()],
    )
    metric(
        "mfg_integration_messages_failed_24h",
        "gauge",
        "Messages created in the last 24 hours that are retrying or dead.",
        [(dict(labels), values["failed_24h"]) for labels, values in merged.items()],
    )
    metric(
        "mfg_integration_oldest_pending_age_seconds",
        "gauge",
        "Age of the oldest pending, in-progress or retrying message.",
        [(dict(labels), values.get("oldest", 0)) for labels, values in merged.items()],
    )
    latency_samples = []
    for labels, values in merged.items():
        if len(values["latency"]) == 1:  # one endpoint: its exact percentiles
            for quantile, field_name in LATENCY_QUANTILES:
                latency_samples.append((dict(labels, quantile=quantile), values["latency"][0][field_name] / 1000.0))
        elif values["latency"]:  # several endpoints: the worst one's (percentiles do not add up)
            for quantile, field_name in LATENCY_QUANTILES:
                latency_samples.append(
                    (dict(labels, quantile=quantile), max(v[field_name] for v in values["latency"]) / 1000.0)
                )
    metric(
        "mfg_integration_delivery_latency_seconds",
        "gauge",
        "Latency from creation to delivery/processing over the last 24 hours (p50, p95).",
        latency_samples,
    )
    endpoint_records = endpoints.search([("company_id", "in", list(company_ids))], order="system_id, name")
    metric(
        "mfg_integration_endpoint_circuit_open",
        "gauge",
        "1 when the endpoint's circuit breaker is open or probing, else 0.",
        [({"system": e.system_id.code, "endpoint": e.name}, int(bool(e.circuit_open_until))) for e in endpoint_records],
    )
    metric(
        "mfg_integration_endpoint_consecutive_failures",
        "gauge",
        "Consecutive failed deliveries of the endpoint.",
        [({"system": e.system_id.code, "endpoint": e.name}, e.consecutive_failures) for e in endpoint_records],
    )
    metric(
        "mfg_integration_endpoint_info",
        "gauge",
        "1 per endpoint, labelled with its transport (http_webhook, mqtt, amqp).",
        [({"system": e.system_id.code, "endpoint": e.name, "transport": e.transport}, 1) for e in endpoint_records],
    )
    _broker_consumer_metrics(env, company_ids, metric)
    _transport_metrics(env, company_ids, stats, metric)
    alert_counts = env["mfg.integration.alert"]._open_count_sql(company_ids)
    alert_systems = {s.id: s.code for s in systems.browse({key[0] for key in alert_counts})}
    metric(
        "mfg_integration_alerts_open",
        "gauge",
        "Open alerts (SLA breaches, dead letters, open circuits) by system and kind.",
        [
            ({"system": alert_systems[system_id], "kind": kind}, count)
            for (system_id, kind), count in sorted(alert_counts.items())
        ],
    )
    for name, kind, help_text, samples in Dashboard._extra_metrics(company_ids):
        metric(name, kind, help_text, samples)
    return "\n".join(lines) + "\n"


def _broker_consumer_metrics(env, company_ids, metric):
    """Broker consumers (MQTT, AMQP subscriptions): connected, heartbeat, messages received and refused."""
    # sudo: the runner's technical state, of the key user's own companies only.
    states = env["mfg.integration.broker.consumer"].sudo().search([("company_id", "in", list(company_ids))])
    down = set(env["mfg.integration.broker.consumer"]._down_consumer_keys(company_ids))
    now = fields.Datetime.now()

    def labels(state):
        return {"system": state.system_id.code, "consumer": state.key, "transport": state.transport}

    metric(
        "mfg_integration_broker_consumer_up",
        "gauge",
        "1 when the broker consumer is connected and its runner's heartbeat is recent, else 0.",
        [(labels(s), int(s.key not in down)) for s in states],
    )
    metric(
        "mfg_integration_broker_consumer_heartbeat_age_seconds",
        "gauge",
        "Seconds since the consumer's runner last reported (-1: never).",
        [(labels(s), int((now - s.heartbeat_at).total_seconds()) if s.heartbeat_at else -1) for s in states],
    )
    metric(
        "mfg_integration_broker_consumer_messages_total",
        "counter",
        "Messages the consumer received from its broker (stored or refused).",
        [(labels(s), s.message_count) for s in states],
    )
    metric(
        "mfg_integration_broker_consumer_refused_total",
        "counter",
        "Messages refused before the inbox (not JSON, invalid, not allowed), sent to the dead letter.",
        [(labels(s), s.refused_count) for s in states],
    )


def _transport_metrics(env, company_ids, stats, metric):
    """Per transport (http_webhook, mqtt, amqp): endpoints connected and unreachable, last delivery, in flight,
    failures; plus the broker consumers connected."""
    transports = sorted(env["mfg.integration.dashboard"]._transport_stats(company_ids, stats).items())
    # sudo: the runner's technical state, of the key user's own companies only.
    consumers = env["mfg.integration.broker.consumer"].sudo().search([("company_id", "in", list(company_ids))])
    down = set(env["mfg.integration.broker.consumer"]._down_consumer_keys(company_ids))
    connected_consumers = {}
    for consumer in consumers:
        connected_consumers.setdefault(consumer.transport, 0)
        connected_consumers[consumer.transport] += consumer.key not in down
    metric(
        "mfg_integration_transport_connected",
        "gauge",
        "Active outbound endpoints of the transport whose last attempt got an answer (a broker's: it was reachable).",
        [({"transport": t}, f["connected"]) for t, f in transports],
    )
    metric(
        "mfg_integration_transport_unreachable",
        "gauge",
        "Active outbound endpoints of the transport whose last attempt got no answer (broker down, refused, timeout).",
        [({"transport": t}, len(f["unreachable"])) for t, f in transports],
    )
    metric(
        "mfg_integration_transport_last_delivery_timestamp_seconds",
        "gauge",
        "Unix time of the transport's last delivery (acknowledged publish) in the last 24 hours (0: none).",
        [({"transport": t}, _unix_time(f["last_delivery_at"])) for t, f in transports],
    )
    metric(
        "mfg_integration_transport_in_flight",
        "gauge",
        "Outbound messages of the transport being sent now (claimed, waiting for the acknowledgement).",
        [({"transport": t}, f["in_progress"]) for t, f in transports],
    )
    metric(
        "mfg_integration_transport_failed_24h",
        "gauge",
        "Outbound messages of the transport created in the last 24 hours that are retrying or dead.",
        [({"transport": t}, f["failed_24h"]) for t, f in transports],
    )
    metric(
        "mfg_integration_transport_consumers_connected",
        "gauge",
        "Broker consumers (inbound subscriptions) of the transport that are connected with a recent heartbeat.",
        [({"transport": t}, count) for t, count in sorted(connected_consumers.items())],
    )


def _unix_time(naive_utc):
    return int(naive_utc.replace(tzinfo=timezone.utc).timestamp()) if naive_utc else 0

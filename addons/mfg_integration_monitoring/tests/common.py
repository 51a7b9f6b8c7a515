"""Seeding messages in known states and ages for the monitoring tests."""

import json
import uuid
from datetime import timedelta

from odoo import fields
from odoo.tests.common import new_test_user
from odoo.tools import SQL

from odoo.addons.mfg_integration.tests.common import IntegrationFixtures


class MonitoringFixtures(IntegrationFixtures):
    """``self.now`` is the reference time every seeded age is relative to."""

    def setup_monitoring(self):
        self.now = fields.Datetime.now()
        self.event_type = self.make_event_type(code="mfg.test_monitoring.order_confirmed.v1")
        self.system = self.make_system(code="MES-A", name="MES Line A")
        self.endpoint = self.make_endpoint(self.system, "http://127.0.0.1:9/a", self.event_type, name="MES A orders")
        self.endpoint2 = self.make_endpoint(self.system, "http://127.0.0.1:9/b", self.event_type, name="MES A backup")

    def seed(
        self,
        state,
        age_minutes=1,
        *,
        endpoint=None,
        system=None,
        event_type=None,
        direction="outbound",
        done_minutes_ago=None,
        latency_ms=None,
        company=None,
        count=1,
    ):
        """``count`` messages in ``state``, created ``age_minutes`` before ``self.now``."""
        endpoint = self.endpoint if endpoint is None and direction == "outbound" else endpoint
        system = system or (endpoint.system_id if endpoint else self.system)
        messages = (
            self.env["mfg.integration.message"]
            .with_context(tracking_disable=True)
            .create(
                [
                    {
                        "direction": direction,
                        "event_type_id": (event_type or self.event_type).id,
                        "system_id": system.id,
                        "endpoint_id": endpoint.id if endpoint else False,
                        "company_id": (company or system.company_id).id,
                        "state": state,
                        "subject": f"ORDER/{uuid.uuid4().hex[:6]}",
                        "payload": json.dumps({"reference": "WH/MO/0001", "quantity": 1}),
                    }
                    for _i in range(count)
                ]
            )
        )
        messages.flush_recordset()
        created = self.now - timedelta(minutes=age_minutes)
        done_at = self.now - timedelta(minutes=done_minutes_ago) if done_minutes_ago is not None else None
        self.env.cr.execute(
            SQL(
                "UPDATE mfg_integration_message SET create_date = %s, done_at = %s, latency_ms = %s WHERE id IN %s",
                created,
                done_at,
                latency_ms,
                tuple(messages.ids),
            )
        )
        messages.invalidate_recordset()
        return messages

    def make_system(self, **vals):
        code = vals.pop("code", f"SYS-{uuid.uuid4().hex[:8]}")
        name = vals.pop("name", code)
        return self.env["mfg.integration.system"].create(dict(name=name, code=code, **vals))

    def make_endpoint(self, system, url, event_types, **vals):
        name = vals.pop("name", f"{system.code} endpoint")
        return self.env["mfg.integration.endpoint"].create(
            dict(
                name=name,
                system_id=system.id,
                url=url,
                subscription_ids=[(0, 0, {"event_type_id": t.id}) for t in event_types],
                **vals,
            )
        )

    def make_user(self, login, groups, company=None):
        company = company or self.env.company
        return new_test_user(
            self.env,
            login=login,
            groups=groups,
            company_id=company.id,
            company_ids=[(6, 0, company.ids)],
        )

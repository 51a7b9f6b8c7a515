# The inbox commits on purpose: every event is stored and committed before it is applied.
# pylint: disable=invalid-commit
"""The inbox as a broker consumer calls it: no HTTP request, the system's technical user, and a
transport-neutral result (kind, message_id, body) that no HTTP status is part of."""

import uuid

from odoo.tests import tagged

from ..lib import inbox
from .common import CommittedCase


@tagged("post_install", "-at_install")
class TestInboxResult(CommittedCase):
    def setUp(self):
        super().setUp()
        event_type = self.env.ref("mfg_integration.event_type_code_mapping_reported")
        self.system = self.make_system(inbound_event_type_ids=[(6, 0, event_type.ids)])
        self.user = self.system.action_create_technical_user()
        self.code = f"WID-{uuid.uuid4().hex[:6]}"
        self.env["product.product"].create({"name": "Widget", "default_code": self.code})
        self.cr.commit()

    def event(self, event_id=None, **data):
        return {
            "specversion": "1.0",
            "id": event_id or str(uuid.uuid4()),
            "source": "urn:broker:line-1",
            "type": "mfg.integration.code_mapping.reported.v1",
            "time": "2026-12-01T10:00:00Z",
            "data": data or {"kind": "product", "external_code": f"X-{self.code}", "odoo_code": self.code},
        }

    def receive(self, event):
        env = self.env(user=self.user.id)
        return env["mfg.integration.message"]._inbound_receive(self.system.with_env(env), event)

    def test_applied_event_and_its_replay(self):
        event = self.event()
        result = self.receive(event)
        self.assertEqual(result.kind, inbox.PROCESSED, result.body)
        self.assertIsInstance(result.message_id, int)
        self.assertEqual(result.body["status"], "processed")
        self.assertEqual(result.body["message_id"], result.message_id)
        message = self.env["mfg.integration.message"].browse(result.message_id)
        self.assertEqual((message.state, message.result_kind), ("done", inbox.PROCESSED))
        mapping = self.env["mfg.integration.code.mapping"].search([("system_id", "=", self.system.id)])
        self.assertEqual(mapping.external_code, f"X-{self.code}")

        again = self.receive(event)
        self.assertTrue(again.replayed)
        self.assertEqual((again.kind, again.message_id, again.body), (inbox.PROCESSED, message.id, result.body))
        self.assertEqual(self.env["mfg.integration.message"].search_count([("system_id", "=", self.system.id)]), 1)

    def test_refusals_are_problem_documents_without_transport_status(self):
        invalid = self.receive(self.event(kind="product"))
        self.assertEqual(invalid.kind, inbox.REFUSED)
        self.assertIsNone(invalid.message_id, "refused before being stored")
        self.assertEqual(invalid.body["type"], "urn:mfg-integration:problem:schema-violation")
        self.assertTrue(invalid.body["title"] and invalid.body["detail"] and invalid.body["errors"])
        self.assertNotIn("status", invalid.body)

        event = self.event()
        self.assertEqual(self.receive(event).kind, inbox.PROCESSED)
        reused = self.receive(dict(event, subject="another payload"))
        self.assertEqual(reused.kind, inbox.REFUSED)
        self.assertEqual(reused.body["type"], "urn:mfg-integration:problem:idempotency-key-reused")
        self.assertIsInstance(reused.message_id, int)

    def test_business_error_is_stored_as_the_current_outcome(self):
        result = self.receive(self.event(kind="product", external_code="X-1", odoo_code="NOPE-9"))
        self.assertEqual(result.kind, inbox.REFUSED)
        message = self.env["mfg.integration.message"].browse(result.message_id)
        self.assertEqual((message.state, message.result_kind), ("dead", inbox.REFUSED))
        self.assertIn("NOPE-9", message.last_error)

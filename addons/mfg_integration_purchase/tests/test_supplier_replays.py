"""Issue 16 item 4 on supplier events: a re-post answers the message's current outcome, and a
failure that is not the sender's (a missing right) applies again when re-posted."""

from odoo.tests import tagged

from .common import SupplierLoopCase

ASN = "mfg.supplier.shipment_notified.v1"


@tagged("post_install", "-at_install")
class TestSupplierReplays(SupplierLoopCase):
    def setUp(self):
        super().setUp()
        self.order = self.make_order(bolts=100, nuts=50)
        self.order.button_confirm()

    def asn(self, event_id, material="WASHER-9"):
        data = {
            "purchase_order": self.order.name,
            "asn_number": "ASN-R1",
            "expected_arrival": "2030-02-01T07:00:00Z",
            "lines": [{"material": material, "quantity": 10}],
        }
        return self.post_event(ASN, data, event_id=event_id)

    def test_notice_replayed_after_reprocess_answers_200(self):
        self.assertEqual(self.asn("asn-evt-1").status_code, 422)
        message = self.env["mfg.integration.message"].search([("event_id", "=", "asn-evt-1")])
        self.env["mfg.integration.code.mapping"].create(
            {
                "system_id": self.system.id,
                "kind": "product",
                "external_code": "WASHER-9",
                "target_ref": f"product.product,{self.nut.id}",
            }
        )
        self.assertEqual(message.action_inbound_reprocess(), {message.id: "processed"})
        replay = self.asn("asn-evt-1")
        self.assertEqual(replay.status_code, 200, replay.text)
        self.assertEqual(replay.headers["Idempotent-Replayed"], "true")
        self.assertEqual(replay.json()["status"], "processed")
        lines = self.order.picking_ids.move_line_ids.filtered(lambda line: line.mfg_asn_number == "ASN-R1")
        self.assertEqual(sum(lines.mapped("quantity")), 10, "applied once")

    def test_notice_failed_for_a_missing_right_applies_when_re_posted(self):
        groups = self.tech_user.groups_id
        self.tech_user.groups_id = [(6, 0, self.env.ref("base.group_user").ids)]  # no purchase or stock right
        response = self.asn("asn-evt-2", material="NUT-M8")
        self.assertEqual(response.status_code, 403, response.text)
        self.assertNotIn(self.tech_user.login, response.text)
        self.tech_user.groups_id = [(6, 0, groups.ids)]
        again = self.asn("asn-evt-2", material="NUT-M8")
        self.assertEqual(again.status_code, 200, again.text)
        self.assertNotIn("Idempotent-Replayed", again.headers)

"""A confirmed purchase order reaches the supplier's receiver over HTTP, through the
real outbox and dispatcher (committed transactions, as in production)."""

from odoo.addons.mfg_integration.tests.common import CommittedCase

CONFIRMED = "mfg.purchase_order.confirmed.v1"


class TestConfirmedOrderDelivery(CommittedCase):
    def setUp(self):
        super().setUp()
        self._business = []
        self.addCleanup(self._remove_business_records)

    def _remove_business_records(self):
        # Runs after CommittedCase's own clean-up (LIFO): its cursor is closed by then.
        cr = self.registry.cursor()
        try:
            env = self.env(cr=cr)
            for model, ids in reversed(self._business):
                records = env[model].browse(ids).exists()
                if model == "purchase.order":
                    records.filtered(lambda o: o.state != "cancel").button_cancel()
                    pickings = records.picking_ids
                    records.unlink()
                    pickings.move_ids._action_cancel()
                    pickings.unlink()
                else:
                    records.unlink()
            cr.commit()
        finally:
            cr.close()

    def keep(self, records):
        self._business.append((records._name, records.ids))
        return records

    def test_confirmed_order_is_delivered_to_the_supplier_receiver(self):
        receiver = self.receiver()
        other_receiver = self.receiver()
        event_type = self.env["mfg.integration.event.type"].search([("code", "=", CONFIRMED)])
        system = self.make_system(kind="supplier")
        other = self.make_system(kind="supplier")
        self.make_endpoint(system, receiver.url, event_type)
        self.make_endpoint(other, other_receiver.url, event_type)
        supplier = self.keep(
            self.env["res.partner"].create({"name": "ACME", "ref": "V-ACME", "mfg_system_id": system.id})
        )
        product = self.keep(
            self.env["product.product"].create(
                {
                    "name": "Bolt M8",
                    "default_code": "BOLT-M8",
                    "seller_ids": [(0, 0, {"partner_id": supplier.id, "product_code": "ACME-778"})],
                }
            )
        )
        order = self.keep(
            self.env["purchase.order"].create(
                {"partner_id": supplier.id, "order_line": [(0, 0, {"product_id": product.id, "product_qty": 12})]}
            )
        )
        order.button_confirm()
        self.cr.commit()

        self.dispatch()

        self.assertEqual(other_receiver.received, [], "another supplier's portal hears nothing")
        [request] = receiver.received
        event = request.json()
        self.assertEqual((event["type"], event["subject"]), (CONFIRMED, order.name))
        self.assertEqual(event["data"]["purchase_order"], order.name)
        self.assertEqual(event["data"]["supplier"]["code"], "V-ACME")
        [line] = event["data"]["lines"]
        self.assertEqual((line["material"], line["quantity"]), ("ACME-778", 12.0))
        self.assertEqual(self.refresh(order).mfg_integration_status, "in_sync")

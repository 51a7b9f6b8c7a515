"""The supplier loop on real Odoo: purchase order events for the supplier's system, and the
supplier's acknowledgements and shipping notices through the REST API."""

from datetime import datetime

from odoo.tests import tagged

from .common import SupplierLoopCase

ACK = "mfg.supplier.order_acknowledged.v1"
ASN = "mfg.supplier.shipment_notified.v1"


@tagged("post_install", "-at_install")
class TestPurchaseOutbound(SupplierLoopCase):
    def test_confirmed_order_is_queued_for_the_supplier_system_only(self):
        other_system, _user, _key = self.make_supplier_system("OTHER-PORTAL")
        self.make_endpoint(other_system)
        order = self.make_order()

        order.button_confirm()

        self.assertEqual(self.sent(other_system), [], "another supplier's portal hears nothing")
        [(event_type, data)] = self.sent(self.system)
        self.assertEqual(event_type, "mfg.purchase_order.confirmed.v1")
        self.assertEqual(self.outbox(event_type, order).subject, order.name)
        self.assertEqual(data["purchase_order"], order.name)
        self.assertEqual(data["supplier"], {"code": "V-ACME", "name": "ACME Fasteners"})
        self.assertEqual(data["buyer"], {"name": "Bea Buyer", "email": "bea@example.com"})
        self.assertEqual(data["ship_to"]["plant"], self.warehouse.code)
        self.assertEqual(data["ship_to"]["address"]["name"], self.warehouse.partner_id.name)
        bolt, nut = data["lines"]
        # The supplier's own code from the vendor pricelist, else ours.
        self.assertEqual((bolt["material"], bolt["our_material"]), ("ACME-778", "BOLT-M8"))
        self.assertEqual((nut["material"], nut["our_material"]), ("NUT-M8", "NUT-M8"))
        self.assertEqual((bolt["quantity"], bolt["unit"], bolt["price"]), (100.0, "Units", 0.5))
        self.assertTrue(bolt["requested_date"].endswith("Z"))
        self.assertEqual(order.mfg_integration_status, "pending")

    def test_order_speaks_the_supplier_codes_and_its_answers_use_them(self):
        Mapping = self.env["mfg.integration.code.mapping"]
        for kind, code, record in (
            ("uom", "EA", self.nut.uom_id),
            ("product", "ACME-NUT", self.nut),
            # The vendor pricelist's code is already the supplier's: a mapping does not replace it.
            ("product", "ACME-BOLT-OLD", self.bolt),
        ):
            target = f"{record._name},{record.id}"
            Mapping.create({"system_id": self.system.id, "kind": kind, "external_code": code, "target_ref": target})
        order = self.make_order()
        order.button_confirm()
        [(_event_type, data)] = self.sent(self.system)
        bolt, nut = data["lines"]
        self.assertEqual(
            (bolt["material"], bolt["material_odoo_code"], bolt["our_material"]), ("ACME-778", "BOLT-M8", "BOLT-M8")
        )
        self.assertEqual(
            (nut["material"], nut["material_odoo_code"], nut["our_material"]), ("ACME-NUT", "NUT-M8", "NUT-M8")
        )
        self.assertEqual((nut["unit"], nut["unit_odoo_code"]), ("EA", "Units"))
        self.env["mfg.integration.event.type"]._get_by_code("mfg.purchase_order.confirmed.v1").ensure_valid(data)

        response = self.post_event(
            ACK,
            {
                "purchase_order": order.name,
                "status": "changed",
                "lines": [{"material": "ACME-NUT", "quantity": 40}, {"material": "ACME-778", "quantity": 100}],
            },
        )
        self.assertProcessed(response)
        self.assertEqual(self.line_of(order, self.nut).mfg_promised_qty, 40)
        self.assertEqual(self.line_of(order, self.bolt).mfg_promised_qty, 100)

    def test_order_of_a_supplier_without_system_sends_nothing(self):
        order = self.make_order(partner=self.env["res.partner"].create({"name": "Walk-in supplier"}))
        order.button_confirm()
        self.assertFalse(self.outbox("mfg.purchase_order.confirmed.v1", order))

    def test_changes_after_confirmation_and_cancellation_are_sent(self):
        order = self.make_order()
        order.button_confirm()
        self.line_of(order, self.nut).product_qty = 80
        self.line_of(order, self.bolt).price_unit = 0.45
        order.button_cancel()

        types = [event_type for event_type, _data in self.sent(self.system)]
        self.assertEqual(
            types,
            [
                "mfg.purchase_order.confirmed.v1",
                "mfg.purchase_order.changed.v1",
                "mfg.purchase_order.changed.v1",
                "mfg.purchase_order.cancelled.v1",
            ],
        )
        first_change = self.sent(self.system)[1][1]
        self.assertEqual([line["quantity"] for line in first_change["lines"]], [100.0, 80.0])
        self.assertEqual(self.sent(self.system)[3][1]["state"], "cancel")


@tagged("post_install", "-at_install")
class TestSupplierAcknowledgement(SupplierLoopCase):
    def setUp(self):
        super().setUp()
        self.order = self.make_order()
        self.order.button_confirm()
        self.receipt = self.order.picking_ids

    def test_accepted_order_shows_it(self):
        result = self.assertProcessed(
            self.post_event(ACK, {"purchase_order": self.order.name, "status": "accepted", "note": "Thanks!"})
        )
        self.assertEqual(result["records"], [{"model": "purchase.order", "id": self.order.id, "name": self.order.name}])
        self.assertEqual(self.order.mfg_ack_state, "accepted")
        self.assertTrue(self.order.mfg_ack_date)
        # In the system's name, by OdooBot: the technical user has no e-mail address.
        [note] = self.system_notes(self.order).filtered(lambda message: "Thanks!" in message.body)
        self.assertIn("accepted", note.body)
        self.assertFalse(self.tech_user.email)
        self.assertFalse(self.order.activity_ids)

    def test_changed_dates_go_to_expected_dates_and_quantity_differences_are_flagged(self):
        response = self.post_event(
            ACK,
            {
                "purchase_order": self.order.name,
                "status": "changed",
                "lines": [
                    {"material": "ACME-778", "quantity": 100, "promised_date": "2030-03-10T08:00:00Z"},
                    {"material": "NUT-M8", "quantity": 40, "promised_date": "2030-03-12"},
                ],
                "note": "Nuts: only 40 this month",
            },
        )
        self.assertProcessed(response)
        bolt_line, nut_line = self.line_of(self.order, self.bolt), self.line_of(self.order, self.nut)
        self.assertEqual(self.order.mfg_ack_state, "changed")
        # Promised dates become the expected arrival of the lines and of the receipt's moves.
        self.assertEqual(bolt_line.date_planned, datetime(2030, 3, 10, 8, 0))
        self.assertEqual(bolt_line.mfg_promised_date, datetime(2030, 3, 10, 8, 0))
        self.assertEqual(nut_line.date_planned.date(), datetime(2030, 3, 12).date())
        bolt_move = self.receipt.move_ids.filtered(lambda m: m.product_id == self.bolt)
        self.assertEqual(bolt_move.date, datetime(2030, 3, 10, 8, 0))
        # Quantities are not applied silently: recorded, and flagged to the buyer once.
        self.assertEqual(nut_line.product_qty, 50)
        self.assertEqual(nut_line.mfg_promised_qty, 40)
        self.assertTrue(nut_line.mfg_promised_qty_differs)
        self.assertFalse(bolt_line.mfg_promised_qty_differs)
        self.assertTrue(self.order.mfg_ack_qty_mismatch)
        self.assertIn(self.order, self.env["purchase.order"].search([("mfg_ack_qty_mismatch", "=", True)]))
        [activity] = self.order.activity_ids
        self.assertEqual(activity.user_id, self.buyer)
        self.assertIn("quantities differ", activity.summary)
        [note] = self.system_notes(self.order)
        self.assertIn("Nut M8", note.body)
        self.assertIn("Nut M8", str(activity.note))
        self.assertEqual(self.receipt.move_ids.filtered(lambda m: m.product_id == self.nut).product_uom_qty, 50)
        # The supplier's own dates are not echoed back to it as a change.
        self.assertFalse(self.outbox("mfg.purchase_order.changed.v1", self.order))

    def test_rejected_order_raises_an_activity_for_the_buyer(self):
        self.assertProcessed(
            self.post_event(ACK, {"purchase_order": self.order.name, "status": "rejected", "note": "Discontinued"})
        )
        self.assertEqual(self.order.mfg_ack_state, "rejected")
        [activity] = self.order.activity_ids
        self.assertEqual(activity.user_id, self.buyer)
        self.assertIn("rejected", activity.summary)
        self.assertIn("Discontinued", str(activity.note))
        # The buyer is told by e-mail, from OdooBot, not from the technical user.
        [assigned] = self.env["mail.message"].search(
            [
                ("model", "=", "purchase.order"),
                ("res_id", "=", self.order.id),
                ("partner_ids", "in", self.buyer.partner_id.ids),
                ("message_type", "=", "user_notification"),
                ("subject", "ilike", "assigned to you"),
            ]
        )
        self.assertEqual(assigned.author_id, self.env.ref("base.partner_root"))
        self.assertTrue(self.system_notes(self.order).filtered(lambda message: "Discontinued" in message.body))

    def test_order_of_another_supplier_is_refused(self):
        other = self.make_order(partner=self.env["res.partner"].create({"name": "Other supplier"}))
        other.button_confirm()
        self.assertBusinessError(
            self.post_event(ACK, {"purchase_order": other.name, "status": "accepted"}),
            "/data/purchase_order",
            other.name,
        )
        self.assertFalse(other.mfg_ack_state)


@tagged("post_install", "-at_install")
class TestShippingNotices(SupplierLoopCase):
    def setUp(self):
        super().setUp()
        self.order = self.make_order(bolts=100, nuts=50)
        self.order.button_confirm()
        self.receipt = self.order.picking_ids
        self.assertEqual(len(self.receipt), 1)

    def asn(self, number, lines, arrival="2030-02-01T07:00:00Z"):
        return self.post_event(
            ASN, {"purchase_order": self.order.name, "asn_number": number, "expected_arrival": arrival, "lines": lines}
        )

    def operations(self):
        return sorted(
            (line.product_id.default_code, line.quantity, line.lot_id.name or False, line.mfg_asn_number)
            for line in self.receipt.move_line_ids
        )

    def test_two_partial_notices_prefill_one_receipt_with_lots(self):
        self.env["mfg.integration.code.mapping"].create(
            {
                "system_id": self.system.id,
                "kind": "uom",
                "external_code": "EA",
                "target_ref": f"uom.uom,{self.bolt.uom_id.id}",
            }
        )
        result = self.assertProcessed(
            self.asn(
                "ASN-1",
                [
                    {"material": "ACME-778", "quantity": 60, "lot": "L-2030-01", "expiry_date": "2031-01-01"},
                    {"material": "NUT-M8", "quantity": 20},
                ],
            )
        )
        self.assertEqual(
            result["records"], [{"model": "stock.picking", "id": self.receipt.id, "name": self.receipt.name}]
        )
        self.assertEqual(self.receipt.scheduled_date, datetime(2030, 2, 1, 7, 0))
        self.assertEqual(self.operations(), [("BOLT-M8", 60.0, "L-2030-01", "ASN-1"), ("NUT-M8", 20.0, False, "ASN-1")])
        lot = self.env["stock.lot"].search([("name", "=", "L-2030-01"), ("product_id", "=", self.bolt.id)])
        self.assertTrue(lot, "the tracked product's lot is created")

        self.assertProcessed(
            self.asn(
                "ASN-2",
                [
                    {"material": "BOLT-M8", "quantity": 40, "lot": "L-2030-02"},
                    {"material": "NUT-M8", "quantity": 30, "uom": "EA"},
                ],
                arrival="2030-02-03T07:00:00Z",
            )
        )
        self.assertEqual(
            self.operations(),
            [
                ("BOLT-M8", 40.0, "L-2030-02", "ASN-2"),
                ("BOLT-M8", 60.0, "L-2030-01", "ASN-1"),
                ("NUT-M8", 20.0, False, "ASN-1"),
                ("NUT-M8", 30.0, False, "ASN-2"),
            ],
        )
        self.assertEqual(self.receipt.scheduled_date, datetime(2030, 2, 3, 7, 0))
        self.assertEqual(self.receipt.mfg_asn_numbers, "ASN-1, ASN-2")
        self.assertTrue(
            self.system_notes(self.receipt).filtered(lambda message: "Shipping notice ASN-2" in message.body)
        )

        # The receiver at the dock only checks and validates.
        self.assertIs(self.receipt.button_validate(), True)
        self.assertEqual(self.receipt.state, "done")
        self.assertEqual(self.line_of(self.order, self.bolt).qty_received, 100)
        quants = self.env["stock.quant"].search(
            [("product_id", "=", self.bolt.id), ("location_id", "child_of", self.warehouse.lot_stock_id.id)]
        )
        self.assertEqual(
            sorted((q.lot_id.name, q.quantity) for q in quants), [("L-2030-01", 60.0), ("L-2030-02", 40.0)]
        )

    def test_partial_notice_leaves_a_backorder_for_the_rest(self):
        self.assertProcessed(self.asn("ASN-1", [{"material": "ACME-778", "quantity": 60, "lot": "L-1"}]))
        action = self.receipt.button_validate()
        self.assertEqual(action["res_model"], "stock.backorder.confirmation")
        self.receipt.with_context(**action["context"])._action_done()
        self.assertEqual(self.receipt.state, "done")
        backorder = self.order.picking_ids - self.receipt
        self.assertEqual(sorted(backorder.move_ids.mapped("product_uom_qty")), [40.0, 50.0])
        # A later notice fills the backorder.
        self.assertProcessed(self.asn("ASN-2", [{"material": "ACME-778", "quantity": 40, "lot": "L-2"}]))
        self.assertEqual(backorder.move_line_ids.mapped("quantity"), [40.0])

    def test_over_delivery_is_refused_naming_the_line(self):
        self.assertProcessed(self.asn("ASN-1", [{"material": "ACME-778", "quantity": 60, "lot": "L-1"}]))
        before = self.operations()
        response = self.asn(
            "ASN-2",
            [{"material": "NUT-M8", "quantity": 10}, {"material": "ACME-778", "quantity": 41, "lot": "L-2"}],
        )
        self.assertBusinessError(response, "/data/lines/1/quantity", "Line 2", "ACME-778", "40")
        self.assertEqual(self.operations(), before, "nothing of a refused notice is applied")
        self.assertFalse(self.env["stock.lot"].search([("name", "=", "L-2")]))

    def test_unknown_material_is_refused_naming_the_line(self):
        response = self.asn("ASN-1", [{"material": "NUT-M8", "quantity": 10}, {"material": "WASHER-9", "quantity": 1}])
        self.assertBusinessError(response, "/data/lines/1/material", "WASHER-9")

    def test_same_notice_twice_is_refused(self):
        self.assertProcessed(self.asn("ASN-1", [{"material": "NUT-M8", "quantity": 10}]))
        self.assertBusinessError(
            self.asn("ASN-1", [{"material": "NUT-M8", "quantity": 10}]), "/data/asn_number", "ASN-1"
        )


@tagged("post_install", "-at_install")
class TestSupplierTwoCompanies(SupplierLoopCase):
    """Another company has products with the same internal references as the ones on the order."""

    def test_notice_by_internal_reference_fills_the_orders_own_product(self):
        company_b = self.env["res.company"].create({"name": "Plant B Ltd"})
        bolt_b = self.env["product.product"].create(
            {"name": "Bolt M8", "default_code": "BOLT-M8", "tracking": "lot", "company_id": company_b.id}
        )
        order = self.make_order()
        order.button_confirm()
        self.assertProcessed(
            self.post_event(
                ACK,
                {"purchase_order": order.name, "status": "changed", "lines": [{"material": "BOLT-M8", "quantity": 90}]},
            )
        )
        self.assertEqual(self.line_of(order, self.bolt).mfg_promised_qty, 90)
        response = self.post_event(
            ASN,
            {
                "purchase_order": order.name,
                "asn_number": "ASN-1",
                "expected_arrival": "2030-02-01T07:00:00Z",
                "lines": [{"material": "BOLT-M8", "quantity": 60, "lot": "L-1"}],
            },
        )
        self.assertNotIn(self.tech_user.login, response.text)
        self.assertProcessed(response)
        [operation] = order.picking_ids.move_line_ids
        self.assertEqual((operation.product_id, operation.quantity, operation.lot_id.name), (self.bolt, 60.0, "L-1"))
        self.assertEqual(operation.lot_id.company_id, self.env.company)
        self.assertFalse(self.env["stock.lot"].search([("product_id", "=", bolt_b.id)]))

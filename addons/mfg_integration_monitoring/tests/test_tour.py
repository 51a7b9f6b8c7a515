"""The support workflow in a real browser (headless Chromium), and the README's screenshots."""

import base64
import json
import os
import pathlib
import tempfile
import time
import uuid
from datetime import timedelta

from odoo import fields
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tests.common import ChromeBrowser

from odoo.addons.mfg_integration.tests.common import EVENT_TIME, make_api_key

from simulators.mfgsim.client import cloud_event

from .common import MonitoringFixtures

CODE_MAPPING_TYPE = "mfg.integration.code_mapping.reported.v1"
# Set to a directory (e.g. docs) to keep the screenshots: MFG_SCREENSHOT_DIR=$PWD/docs setup/test ...
SCREENSHOT_DIR = os.environ.get("MFG_SCREENSHOT_DIR")


@tagged("post_install", "-at_install")
class TestSupportTour(HttpCase, MonitoringFixtures):
    browser_size = "1400x900"

    def setUp(self):
        super().setUp()
        self.inbound_type = self.env.ref("mfg_integration.event_type_code_mapping_reported")
        self.mes = self.env["mfg.integration.system"].create(
            {
                "name": "MES Assembly Hall",
                "code": "TOUR-MES",
                "inbound_event_type_ids": [(6, 0, self.inbound_type.ids)],
                "responsible_user_id": self.env.ref("base.user_admin").id,
            }
        )
        technical = new_test_user(
            self.env,
            login=f"tech-tour-{uuid.uuid4().hex[:6]}",
            name="MES Assembly Hall (API)",
            groups="base.group_user,mfg_integration.group_mfg_integration_manager",
        )
        technical.mfg_system_id = self.mes
        self.key = make_api_key(self.env, technical, "mes")
        self.product = self.env["product.product"].create({"name": "Widget", "default_code": "WID-1"})

    def post_failing_event(self):
        """The MES reports a code mapping for a product code Odoo does not know: a dead letter."""
        data = {"kind": "product", "external_code": "MES-WID", "odoo_code": "NOPE-1"}
        event = dict(cloud_event(CODE_MAPPING_TYPE, data, "urn:mes:assembly-hall", EVENT_TIME), subject="MES-WID")
        response = self.url_open(
            "/api/mfg/v1/events",
            data=json.dumps(event),
            headers={"Authorization": f"Bearer {self.key}", "Content-Type": "application/cloudevents+json"},
        )
        self.assertEqual(response.status_code, 422, response.text)
        message = self.env["mfg.integration.message"].search(
            [("direction", "=", "inbound"), ("event_id", "=", event["id"])]
        )
        self.assertEqual(message.state, "dead", response.text)
        return message

    def test_support_workflow_tour(self):
        message = self.post_failing_event()
        self.start_tour(
            "/odoo/action-mfg_integration_monitoring.action_mfg_integration_dashboard",
            "mfg_integration_monitoring_support_tour",
            login="admin",
        )
        message.invalidate_recordset()
        self.assertEqual(message.state, "done")
        self.assertEqual(json.loads(message.payload)["data"]["odoo_code"], "WID-1")
        self.assertEqual(json.loads(message.original_payload)["data"]["odoo_code"], "NOPE-1")
        mapping = self.env["mfg.integration.code.mapping"].search([("system_id", "=", self.mes.id)])
        self.assertEqual(mapping.target_ref, self.product)
        bodies = message.message_ids.mapped("body")
        admin = self.env.ref("base.user_admin").name
        self.assertTrue(any(f"Payload edited by {admin}." in body for body in bodies), bodies)
        # The chatter names who reprocessed, the technical user it ran as, and the outcome.
        reprocessed = [body for body in bodies if f"Reprocessed by {admin} as " in body and ": processed." in body]
        self.assertTrue(reprocessed, bodies)

    # -- screenshots ---------------------------------------------------------------

    def seed_showcase(self):
        """A plausible factory day for the screenshots."""
        self.now = fields.Datetime.now()
        self.event_type = self.make_event_type(code="mfg.showcase.work_order.released.v1")
        wms = self.make_system(code="WMS", name="WMS Central Warehouse")
        wms_endpoint = self.make_endpoint(wms, "https://wms.example.com/hooks/odoo", self.event_type, name="Picking")
        self.mes_endpoint = self.make_endpoint(
            self.mes, "https://mes.example.com/odoo", self.event_type, name="Work orders"
        )
        for latency in (120, 180, 240, 260, 300, 900):
            self.seed("done", 120, endpoint=self.mes_endpoint, done_minutes_ago=110, latency_ms=latency, count=8)
        self.seed("pending", 1, endpoint=self.mes_endpoint, count=2)
        self.seed("done", 300, endpoint=wms_endpoint, done_minutes_ago=290, latency_ms=450, count=20)
        self.seed("retry", 25, endpoint=wms_endpoint, count=4)
        self.seed("dead", 70, endpoint=wms_endpoint, count=2)
        wms_endpoint.write({"circuit_open_until": self.now + timedelta(minutes=3), "consecutive_failures": 6})
        self.env["mfg.integration.sla"].create(
            {
                "name": "Work order released to the WMS within 15 min",
                "event_type_id": self.event_type.id,
                "max_age_minutes": 15,
            }
        )

    def _wait_for(self, browser, ready, timeout=180):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                result = browser._websocket_request(
                    "Runtime.evaluate", params={"expression": f"!!({ready})", "returnByValue": True}, timeout=5
                )
            except TimeoutError:
                browser._logger.warning("browser busy while waiting for %s", ready)
                continue
            if result.get("result", {}).get("value") is True:
                return True
            time.sleep(0.25)
        return False

    def screenshot(self, url_path, ready, name, size="1400x900"):
        """Open ``url_path`` as admin in a fresh headless Chromium and keep a PNG of the page."""
        self.cr.flush()
        self.browser_size = size
        browser = ChromeBrowser(self, headless=True)
        try:
            self.authenticate("admin", "admin", browser=browser)
            browser.navigate_to(f"{self.base_url()}{url_path}", wait_stop=True)
            ready_ok = self._wait_for(browser, ready)
            time.sleep(1)  # let the last rendering and fonts settle
            result = browser._websocket_request("Page.captureScreenshot", params={"format": "png"}, timeout=30)
            if not ready_ok:
                pathlib.Path("/tmp/debug.png").write_bytes(base64.b64decode(result["data"]))
                self.fail(f"{ready} never became true on {url_path}")
        finally:
            browser.stop()
            self._wait_remaining_requests()
        png = base64.b64decode(result["data"])
        self.assertEqual(png[:8], b"\x89PNG\r\n\x1a\n")
        self.assertGreater(len(png), 20_000, "an empty page?")
        directory = pathlib.Path(SCREENSHOT_DIR or tempfile.mkdtemp(prefix="mfg-screenshots-"))
        directory.mkdir(parents=True, exist_ok=True)
        (directory / name).write_bytes(png)

    def test_dashboard_and_message_screenshots(self):
        """The dashboard and a message form render in Chromium (kept in docs/ with MFG_SCREENSHOT_DIR)."""
        self.seed_showcase()
        message = self.post_failing_event()
        message.with_user(self.env.ref("base.user_admin"))._inbound_edit_payload(
            dict(
                json.loads(message.payload), data={"kind": "product", "external_code": "MES-WID", "odoo_code": "WID-1"}
            )
        )
        self.assertEqual(message.state, "done")
        # In tests the inbox's create_date is the test transaction's clock: give it a real-life latency.
        message.flush_recordset()
        self.env.cr.execute("UPDATE mfg_integration_message SET latency_ms = 35 WHERE id = %s", [message.id])
        message.invalidate_recordset()
        self.post_failing_event()
        self.screenshot(
            "/odoo/action-mfg_integration_monitoring.action_mfg_integration_dashboard",
            "document.querySelectorAll('.o_mfg_card').length >= 3",
            "dashboard.png",
        )
        self.screenshot(
            f"/odoo/action-mfg_integration.mfg_integration_message_action/{message.id}",
            "document.querySelector('.o_form_view .o-mail-Message')",
            "message_form.png",
            size="1920x1080",
        )

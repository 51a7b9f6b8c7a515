import json

from odoo.exceptions import UserError, ValidationError

from ..lib.schema import SchemaViolation
from .common import IntegrationCase


class TestEventType(IntegrationCase):
    def test_code_must_follow_the_naming_rule(self):
        with self.assertRaises(ValidationError):
            self.make_event_type(code="production_order_released")

    def test_version_is_the_major_of_the_code(self):
        event_type = self.make_event_type()
        event_type.code = "mfg.production_order.released.v3"
        self.assertEqual(event_type.version, 3)

    def test_invalid_json_schema_is_refused(self):
        with self.assertRaises(ValidationError):
            self.make_event_type(schema={"type": "no-such-type"})

    def test_payload_violating_the_schema_raises_and_queues_nothing(self):
        event_type = self.make_event_type()
        endpoint = self.make_endpoint(self.make_system(), "http://127.0.0.1:9/hook", event_type)
        partner = self.make_partner()
        with self.assertRaises(SchemaViolation) as caught:
            self.env["mfg.integration.message"].emit(event_type.code, partner, {"reference": "", "quantity": -1})
        paths = sorted(error["path"] for error in caught.exception.errors)
        self.assertEqual(paths, ["/quantity", "/reference"])
        self.assertFalse(self.messages_of(endpoint))

    def test_unknown_event_type_is_refused(self):
        with self.assertRaises(UserError):
            self.env["mfg.integration.message"].emit("mfg.nothing.here.v1", self.make_partner(), {})

    def test_ping_schema_is_loaded_from_its_file(self):
        ping = self.env.ref("mfg_integration.event_type_integration_ping")
        self.assertEqual(json.loads(ping.json_schema)["required"], ["endpoint", "system", "message"])

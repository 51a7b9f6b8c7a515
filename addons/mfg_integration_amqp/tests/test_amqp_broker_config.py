"""Broker and AMQP endpoint configuration: validation, secrets and company isolation."""

from odoo.exceptions import AccessError, ValidationError

from odoo.addons.mfg_integration.tests.common import IntegrationCase


class TestAmqpBrokerConfig(IntegrationCase):
    def setUp(self):
        super().setUp()
        self.broker = self.env["mfg.integration.amqp.broker"].create(
            {"name": "Backbone", "host": "rabbitmq.example.com", "username": "odoo", "password": "s3cret-pw"}
        )
        self.event_type = self.make_event_type()

    def make_amqp_endpoint(self, **vals):
        return self.make_endpoint(
            self.make_system(), "amqp://x", self.event_type, transport="amqp", amqp_broker_id=self.broker.id, **vals
        )

    def test_the_password_is_stored_encrypted_and_never_shown_again(self):
        self.assertTrue(self.broker.has_password)
        self.assertFalse(self.broker.password)
        self.assertNotIn("s3cret-pw", self.broker.sudo().password_encrypted)
        self.assertEqual(self.broker._settings().password, "s3cret-pw")
        self.assertNotIn("s3cret-pw", repr(self.broker._settings()))
        manager = self.env["res.users"].create(
            {
                "name": "Integration manager",
                "login": "amqp-manager",
                "groups_id": [(6, 0, [self.env.ref("mfg_integration.group_mfg_integration_manager").id])],
            }
        )
        as_manager = self.broker.with_user(manager)
        self.assertFalse(as_manager.read(["password"])[0]["password"])
        with self.assertRaises(AccessError):
            as_manager.read(["password_encrypted"])

    def test_the_endpoint_url_is_the_brokers_address_without_credentials(self):
        endpoint = self.make_amqp_endpoint()
        self.assertEqual(endpoint.url, "amqp://rabbitmq.example.com:5672/%2F")
        self.broker.write({"tls": True, "port": 5671, "virtual_host": "plant"})
        self.assertEqual(endpoint.url, "amqps://rabbitmq.example.com:5671/plant")

    def test_routing_key_placeholders_are_checked_at_save(self):
        endpoint = self.make_amqp_endpoint(amqp_routing_key="{entity}.{action}.{subject}")
        for template in ("{plant}.{type}", "{type!r}", "{type:>10}", "{", ""):
            with self.subTest(template=template), self.assertRaises(ValidationError):
                endpoint.amqp_routing_key = template
                endpoint.flush_recordset()

    def test_an_amqp_endpoint_needs_a_broker_of_its_own_company(self):
        with self.assertRaises(ValidationError):
            self.make_endpoint(self.make_system(), "amqp://x", self.event_type, transport="amqp")
        other_company = self.env["res.company"].create({"name": "Other plant company"})
        self.broker.company_id = other_company
        with self.assertRaises(ValidationError):
            self.make_amqp_endpoint()

    def test_a_broker_host_is_a_host_not_a_url(self):
        with self.assertRaises(ValidationError):
            self.broker.host = "amqp://user:pw@host"

from odoo.tests import HttpCase, tagged

from odoo.addons.mfg_integration.tests.common import BrokerAccessCases


@tagged("post_install", "-at_install")
class TestMqttBrokerAccess(BrokerAccessCases, HttpCase):
    broker_model = "mfg.integration.mqtt.broker"
    broker_values = {"name": "Plant UNS", "host": "uns.example.com", "username": "odoo", "password": "uns-s3cret-pw"}

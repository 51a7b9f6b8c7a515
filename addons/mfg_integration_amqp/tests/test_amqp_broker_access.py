from odoo.tests import HttpCase, tagged

from odoo.addons.mfg_integration.tests.common import BrokerAccessCases


@tagged("post_install", "-at_install")
class TestAmqpBrokerAccess(BrokerAccessCases, HttpCase):
    broker_model = "mfg.integration.amqp.broker"
    broker_values = {
        "name": "Backbone",
        "host": "rabbitmq.example.com",
        "username": "odoo",
        "password": "amqp-s3cret-pw",
    }

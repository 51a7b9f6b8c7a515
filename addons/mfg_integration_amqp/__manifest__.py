{
    "name": "Manufacturing Integration Hub: AMQP (RabbitMQ)",
    "summary": "Publish integration events to a RabbitMQ topic exchange with publisher confirms, "
    "and consume inbound events from a queue",
    "version": "18.0.1.0.0",
    "category": "Manufacturing/Integration",
    "author": "Manufacturing Integration Hub contributors",
    "website": "https://github.com/mfg-integration-hub/mfg-integration-hub",
    "license": "LGPL-3",
    "depends": ["mfg_integration"],
    "external_dependencies": {"python": ["pika"]},
    "data": [
        "security/mfg_integration_amqp_security.xml",
        "security/ir.model.access.csv",
        "views/mfg_integration_amqp_broker_views.xml",
        "views/mfg_integration_endpoint_views.xml",
        "views/mfg_integration_system_views.xml",
    ],
}

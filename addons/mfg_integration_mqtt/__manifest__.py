{
    "name": "Manufacturing Integration Hub - MQTT",
    "summary": "MQTT transport for the plant's Unified Namespace: events published on ISA-95 topics with PUBACK, "
    "inbound subscriptions into the inbox",
    "version": "18.0.1.0.0",
    "category": "Manufacturing/Integration",
    "author": "Manufacturing Integration Hub contributors",
    "website": "https://github.com/mfg-integration-hub/mfg-integration-hub",
    "license": "LGPL-3",
    "depends": ["mfg_integration", "mfg_integration_stock"],
    "external_dependencies": {"python": ["paho-mqtt"]},
    "data": [
        "security/mfg_integration_mqtt_security.xml",
        "security/ir.model.access.csv",
        "views/mfg_integration_mqtt_broker_views.xml",
        "views/mfg_integration_endpoint_views.xml",
        "views/mfg_integration_system_views.xml",
    ],
}

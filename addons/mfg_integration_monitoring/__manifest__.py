{
    "name": "Manufacturing Integration Hub: Monitoring",
    "summary": "Dashboard, business SLAs, alerts, health and Prometheus metrics for the integration hub",
    "version": "18.0.1.0.0",
    "category": "Manufacturing/Integration",
    "author": "Manufacturing Integration Hub contributors",
    "website": "https://github.com/mfg-integration-hub/mfg-integration-hub",
    "license": "LGPL-3",
    "depends": ["mfg_integration", "mail", "web"],
    "data": [
        "security/ir.model.access.csv",
        "security/mfg_integration_monitoring_security.xml",
        "data/mail_activity_type_data.xml",
        "data/ir_cron_data.xml",
        "data/ir_config_parameter_data.xml",
        "views/mfg_integration_dashboard_views.xml",
        "views/mfg_integration_message_views.xml",
        "views/mfg_integration_sla_views.xml",
        "views/mfg_integration_alert_views.xml",
        "views/mfg_integration_system_views.xml",
        "views/mfg_integration_monitoring_menus.xml",
    ],
    "assets": {
        "web.assets_backend": [
            "mfg_integration_monitoring/static/src/**/*",
        ],
        "web.assets_tests": [
            "mfg_integration_monitoring/static/tests/tours/**/*",
        ],
    },
}

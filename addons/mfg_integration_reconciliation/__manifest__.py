{
    "name": "Manufacturing Integration Hub - Reconciliation",
    "summary": "Find and resolve drift between Odoo and each external system: "
    "WIP, stock and open purchase line snapshots in and out",
    "version": "18.0.1.0.0",
    "category": "Manufacturing/Integration",
    "author": "Manufacturing Integration Hub contributors",
    "website": "https://github.com/mfg-integration-hub/mfg-integration-hub",
    "license": "LGPL-3",
    "depends": [
        "mfg_integration_mrp",
        "mfg_integration_stock",
        "mfg_integration_purchase",
        "mfg_integration_monitoring",
    ],
    "data": [
        "security/ir.model.access.csv",
        "security/mfg_integration_reconciliation_security.xml",
        "data/mfg_integration_event_type_data.xml",
        "data/ir_cron_data.xml",
        "wizard/mfg_integration_reconciliation_explain_views.xml",
        "views/mfg_integration_reconciliation_line_views.xml",
        "views/mfg_integration_reconciliation_run_views.xml",
        "views/mfg_integration_reconciliation_tolerance_views.xml",
        "views/mfg_integration_system_views.xml",
        "views/mfg_integration_reconciliation_menus.xml",
    ],
    "assets": {
        "web.assets_backend": [
            "mfg_integration_reconciliation/static/src/**/*",
        ],
    },
}

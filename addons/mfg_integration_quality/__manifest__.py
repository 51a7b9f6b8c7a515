{
    "name": "Manufacturing Integration Hub - Quality",
    "summary": "Quality loop: inspection results from quality systems on OCA inspections, "
    "lot holds blocking deliveries and consumption, hold and inspection events",
    "version": "18.0.1.0.0",
    "category": "Manufacturing/Quality",
    "author": "Manufacturing Integration Hub contributors",
    "website": "https://github.com/mfg-integration-hub/mfg-integration-hub",
    # AGPL-3: it builds on OCA's AGPL-3 quality_control_* modules.
    "license": "AGPL-3",
    "depends": [
        "mfg_integration_stock",
        "mrp",
        "quality_control_oca",
        "quality_control_stock_oca",
        "quality_control_mrp_oca",
    ],
    "data": [
        "security/ir.model.access.csv",
        "security/mfg_integration_quality_security.xml",
        "data/mfg_integration_event_type_data.xml",
        "views/mfg_quality_lot_hold_views.xml",
        "views/stock_lot_views.xml",
        "views/qc_test_views.xml",
        "views/qc_inspection_views.xml",
        "views/res_config_settings_views.xml",
        "wizard/mfg_quality_lot_hold_wizard_views.xml",
    ],
    "installable": True,
}

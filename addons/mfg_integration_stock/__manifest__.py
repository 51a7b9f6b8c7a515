{
    "name": "Manufacturing Integration Hub - Inventory",
    "summary": "Plant routing, inventory events and transfer status for external WMS/MES systems",
    "version": "18.0.1.0.0",
    "category": "Manufacturing/Integration",
    "author": "Manufacturing Integration Hub contributors",
    "website": "https://github.com/mfg-integration-hub/mfg-integration-hub",
    "license": "LGPL-3",
    "depends": ["mfg_integration", "stock"],
    "data": [
        "data/mfg_integration_event_type_data.xml",
        "views/mfg_integration_system_views.xml",
        "views/stock_picking_views.xml",
    ],
}

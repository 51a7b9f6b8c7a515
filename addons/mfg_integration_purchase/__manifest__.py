{
    "name": "Manufacturing Integration Hub - Purchase",
    "summary": "Supplier loop: purchase order events to supplier portals/EDI, "
    "order acknowledgements and advance shipping notices pre-filling receipts",
    "version": "18.0.1.0.0",
    "category": "Inventory/Purchase",
    "author": "Manufacturing Integration Hub contributors",
    "website": "https://github.com/mfg-integration-hub/mfg-integration-hub",
    "license": "LGPL-3",
    "depends": ["mfg_integration_stock", "purchase_stock"],
    "data": [
        "data/mfg_integration_event_type_data.xml",
        "views/res_partner_views.xml",
        "views/purchase_order_views.xml",
        "views/stock_picking_views.xml",
    ],
    "installable": True,
}

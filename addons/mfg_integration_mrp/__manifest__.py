{
    "name": "Manufacturing Integration Hub - Manufacturing",
    "summary": "Order release to MES; production, consumption, scrap, work order and downtime reports back",
    "version": "18.0.1.0.0",
    "category": "Manufacturing/Integration",
    "author": "Manufacturing Integration Hub contributors",
    "website": "https://github.com/mfg-integration-hub/mfg-integration-hub",
    "license": "LGPL-3",
    "depends": ["mfg_integration_stock", "mrp"],
    "data": [
        "data/mfg_integration_event_type_data.xml",
        "views/mrp_production_views.xml",
    ],
}

{
    "name": "Manufacturing Integration Hub - Demo Plant",
    "summary": "A demo company with two plants, its MES, WMS, supplier portal and quality station wired to the hub",
    "version": "18.0.1.0.0",
    "category": "Manufacturing/Integration",
    "author": "Manufacturing Integration Hub contributors",
    "website": "https://github.com/mfg-integration-hub/mfg-integration-hub",
    "license": "LGPL-3",
    "depends": [
        "mfg_integration_mrp",
        "mfg_integration_purchase",
        "mfg_integration_quality",
        "mfg_integration_monitoring",
    ],
    "post_init_hook": "post_init_hook",
}

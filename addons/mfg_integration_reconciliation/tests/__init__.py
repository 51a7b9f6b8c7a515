from . import test_wip_reconciliation
from . import test_stock_reconciliation
from . import test_paged_snapshots
from . import test_reconciliation_access
from . import test_reconciliation_monitoring
from . import test_purchase_reconciliation

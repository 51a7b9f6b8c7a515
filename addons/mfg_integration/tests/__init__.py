from . import test_event_type
from . import test_outbox
from . import test_dispatcher
from . import test_support_actions
from . import test_api
from . import test_address_policy
from . import test_inbound_hardening
from . import test_broker_consumer

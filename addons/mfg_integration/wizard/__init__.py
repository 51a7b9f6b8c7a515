from . import mfg_integration_payload_edit_wizard
from . import mfg_integration_api_key_wizard

# One module per transport; importing it registers it (see ..transport).
from . import http_webhook

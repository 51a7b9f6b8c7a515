# Importing it registers the AMQP transport on the core seam (mfg_integration.lib.transport).
from . import amqp

# Importing the module registers the transport on the core seam (mfg_integration.lib.transport).
from . import mqtt

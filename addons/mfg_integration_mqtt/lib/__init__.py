from . import transports

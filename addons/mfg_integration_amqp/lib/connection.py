"""Broker connection settings and the pika parameters made from them (pure, no ORM)."""

import ssl
from dataclasses import dataclass, field

import pika


@dataclass(frozen=True)
class BrokerSettings:
    """A broker's connection settings, read from its record; hashable: the key of a connection pool."""

    host: str
    port: int
    vhost: str = "/"
    tls: bool = False
    username: str = ""
    password: str = field(default="", repr=False)  # decrypted only to connect; never in a repr or a log

    def parameters(self, timeout, heartbeat=None):
        """pika parameters; every wait of the connection handshake is bounded by ``timeout`` seconds."""
        ssl_options = None
        if self.tls:
            ssl_options = pika.SSLOptions(ssl.create_default_context(), server_hostname=self.host)
        return pika.ConnectionParameters(
            host=self.host,
            port=self.port,
            virtual_host=self.vhost,
            credentials=pika.PlainCredentials(self.username, self.password, erase_on_connect=False),
            ssl_options=ssl_options,
            socket_timeout=timeout,
            stack_timeout=timeout,
            blocked_connection_timeout=timeout,
            heartbeat=heartbeat,
            connection_attempts=1,
            client_properties={"connection_name": "odoo-mfg-integration"},
        )

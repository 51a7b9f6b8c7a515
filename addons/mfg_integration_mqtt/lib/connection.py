"""MQTT connections: settings, client creation (MQTT 5 with a 3.1.1 fallback, TLS) and the pool
of long-lived publishing clients, one per connection settings and process, shared by the
dispatcher's threads. No ORM: the settings are read from the broker record at claim time.
"""

import os
import socket
import ssl
import tempfile
import threading
import time
from dataclasses import dataclass

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

PROTOCOLS = {"5": mqtt.MQTTv5, "3.1.1": mqtt.MQTTv311}
CONNECT_TIMEOUT = 10  # seconds to get a CONNACK
# A persistent session outlives a disconnection by this long (MQTT 5 Session Expiry Interval):
# what arrives for a stopped subscriber meanwhile is kept by the broker.
SESSION_EXPIRY = 7 * 24 * 3600


@dataclass(frozen=True)
class BrokerSettings:
    """How to reach a broker; hashable: it keys the pool of publishing clients."""

    host: str
    port: int
    protocol: str = "auto"  # "auto" (5, else 3.1.1), "5" or "3.1.1"
    keepalive: int = 60
    client_id: str = ""
    username: str = ""
    password: str = ""
    tls: bool = False
    ca_pem: str = ""  # trusted CA certificates, PEM; empty: the system's
    cert_pem: str = ""  # client certificate, PEM
    key_pem: str = ""  # client private key, PEM

    def __repr__(self):  # never print the password or the key in a log line
        return f"BrokerSettings({self.host}:{self.port}, protocol={self.protocol}, tls={self.tls})"


class ConnectError(Exception):
    """The broker could not be reached or refused the connection."""


class AddressRefused(Exception):
    """Every address of the broker's host is refused by the outbound address policy."""


def address_refusal(host, address_policy):
    """Why the outbound address policy refuses every address ``host`` resolves to, else None."""
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except socket.gaierror:
        return None  # not resolvable: the connection attempt fails and is retried
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    refusals = [address_policy.refusal(address) for address in addresses]
    if all(refusals):
        return f"{host}: " + "; ".join(refusals)
    return None


def _tls_context(settings):
    context = ssl.create_default_context(cadata=settings.ca_pem or None)
    if settings.cert_pem:
        # ssl loads a certificate chain from files only: written to a private temporary file, removed at once.
        with tempfile.TemporaryDirectory() as directory:
            cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
            for path, text in ((cert, settings.cert_pem), (key, settings.key_pem)):
                with open(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600), "w", encoding="utf-8") as handle:
                    handle.write(text)
            context.load_cert_chain(cert, key if settings.key_pem else None)
    return context


def connect(settings, client_id, persistent=False, on_message=None, on_connect=None, manual_ack=False):
    """A connected client with its network loop running, or ConnectError.

    ``persistent``: a session kept by the broker across disconnections (MQTT 5 clean start off with
    a session expiry; MQTT 3.1.1 clean session off). Protocol "auto" tries MQTT 5, then 3.1.1 when the
    broker refuses the version."""
    versions = ["5", "3.1.1"] if settings.protocol == "auto" else [settings.protocol]
    error = None
    for version in versions:
        try:
            return _connect(settings, client_id, version, persistent, on_message, on_connect, manual_ack)
        except ConnectError as refused:
            error = refused
            if not getattr(refused, "unsupported_version", False):
                break
    raise error


def _connect(settings, client_id, version, persistent, on_message, on_connect, manual_ack):
    protocol = PROTOCOLS[version]
    kwargs = {"callback_api_version": mqtt.CallbackAPIVersion.VERSION2, "client_id": client_id, "protocol": protocol}
    if protocol != mqtt.MQTTv5:
        kwargs["clean_session"] = not persistent
    # No automatic reconnection: the pool (publishing) and the runner (consuming) reconnect themselves.
    client = mqtt.Client(manual_ack=manual_ack, reconnect_on_failure=False, **kwargs)
    if settings.username:
        client.username_pw_set(settings.username, settings.password or None)
    if settings.tls:
        client.tls_set_context(_tls_context(settings))
    connected = threading.Event()
    outcome = {}

    def _on_connect(client_, userdata, flags, reason_code, properties):
        outcome["reason"] = reason_code
        if not reason_code.is_failure and on_connect:
            on_connect(client_, flags)
        connected.set()

    def _on_disconnect(client_, userdata, flags, reason_code, properties):
        outcome.setdefault("closed", reason_code)
        connected.set()

    client.on_connect = _on_connect
    client.on_disconnect = _on_disconnect
    client.on_message = on_message
    properties = None
    connect_kwargs = {}
    if protocol == mqtt.MQTTv5:
        connect_kwargs["clean_start"] = not persistent
        if persistent:
            properties = Properties(PacketTypes.CONNECT)
            properties.SessionExpiryInterval = SESSION_EXPIRY
    try:
        client.connect(settings.host, settings.port, settings.keepalive, properties=properties, **connect_kwargs)
    except (OSError, ssl.SSLError, ValueError) as error:
        raise ConnectError(f"{type(error).__name__}: {error}") from error
    client.loop_start()
    if not connected.wait(CONNECT_TIMEOUT):
        disconnect(client)
        raise ConnectError(f"no CONNACK from {settings.host}:{settings.port} within {CONNECT_TIMEOUT} s")
    if "reason" not in outcome:
        disconnect(client)
        error = ConnectError(f"the broker closed the connection before accepting it: {outcome['closed']}")
        error.unsupported_version = True  # what a broker of an older protocol does
        raise error
    reason = outcome["reason"]
    if reason.is_failure:
        disconnect(client)
        error = ConnectError(f"connection refused by the broker: {reason}")
        # MQTT 5 "Unsupported Protocol Version" (0x84), or MQTT 3.1.1's return code 1 as paho reports it.
        error.unsupported_version = reason.value in (0x84, 1)
        raise error
    return client


def disconnect(client):
    try:
        client.disconnect()
    finally:
        client.loop_stop()


def process_client_id(base):
    """A client id of this process: two processes publishing with one id would disconnect each other."""
    return f"{base or 'odoo-mfg'}-out-{socket.gethostname()}-{os.getpid()}"[:64]


class PublisherPool:
    """One publishing client per connection settings and outbound address policy in this process
    (a connection allowed by one company's policy is never reused for another's), connected on first
    use and again after a failure, at most once per RECONNECT_PAUSE: a down broker is not hammered.
    The policy is checked when connecting (the host's addresses resolved then)."""

    RECONNECT_PAUSE = 1.0

    def __init__(self):
        self._lock = threading.Lock()
        self._clients = {}
        self._failed_at = {}

    def client(self, settings, address_policy):
        """The connected client for ``settings``, or AddressRefused, or ConnectError."""
        key = (settings, address_policy)
        with self._lock:
            client = self._clients.get(key)
            if client is not None and client.is_connected():
                return client
            if client is not None:
                self._clients.pop(key)
                disconnect(client)
            if time.monotonic() - self._failed_at.get(key, -1e9) < self.RECONNECT_PAUSE:
                raise ConnectError("broker unreachable (last attempt under a second ago)")
            refusal = address_refusal(settings.host, address_policy)
            if refusal:
                raise AddressRefused(refusal)
            try:
                client = connect(settings, process_client_id(settings.client_id))
            except ConnectError:
                self._failed_at[key] = time.monotonic()
                raise
            self._clients[key] = client
            return client

    def discard(self, settings, address_policy, client):
        """Forget a client that failed (no acknowledgement in time): the next send reconnects."""
        key = (settings, address_policy)
        with self._lock:
            if self._clients.get(key) is client:
                self._clients.pop(key)
                disconnect(client)


publishers = PublisherPool()

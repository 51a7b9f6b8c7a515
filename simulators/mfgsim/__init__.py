"""A small client library for systems that talk to the Manufacturing Integration Hub over HTTP.

Plain Python (requests, standardwebhooks): no Odoo import. See README, "The simulators' client library".
"""

from .buffer import StoreAndForward
from .client import HubClient, HubError, cloud_event
from .journal import Journal
from .receiver import WebhookReceiver, verify_webhook

__all__ = ["HubClient", "HubError", "Journal", "StoreAndForward", "WebhookReceiver", "cloud_event", "verify_webhook"]

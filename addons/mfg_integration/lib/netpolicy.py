"""Outbound address policy: which resolved IP addresses a delivery may connect to.

Public addresses are always allowed. Loopback, link-local (cloud metadata at
169.254.169.254), multicast, reserved and unspecified addresses, and private ranges,
are refused unless a network that contains them is listed: private ranges by the
company (a plant network), the others only by a Settings administrator.
"""

import ipaddress
from dataclasses import dataclass

PRIVATE_RANGES = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")


def parse_networks(text):
    """Networks from a comma/space/newline separated list of CIDRs; ValueError names a bad one."""
    networks = []
    for item in (text or "").replace(",", " ").split():
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(f"{item!r} is not an IP network (e.g. 10.20.0.0/16)") from None
    return tuple(networks)


def is_private_range(network):
    """True when ``network`` lies inside the private ranges a company may allow by itself."""
    return any(
        network.version == allowed.version and network.subnet_of(allowed)
        for allowed in map(ipaddress.ip_network, PRIVATE_RANGES)
    )


@dataclass(frozen=True)
class AddressPolicy:
    allowed_networks: tuple = ()  # company's private networks plus the administrator's exceptions

    def refusal(self, address):
        """None when ``address`` (text or ip_address) may be connected to, else why not."""
        ip = ipaddress.ip_address(address)
        if ip.version == 6 and ip.ipv4_mapped:
            ip = ip.ipv4_mapped
        if any(ip.version == network.version and ip in network for network in self.allowed_networks):
            return None
        for kind in ("unspecified", "loopback", "link_local", "multicast", "reserved"):
            if getattr(ip, f"is_{kind}"):
                return f"{ip} is a {kind.replace('_', '-')} address"
        if not ip.is_global:
            return f"{ip} is a private address not listed in the company's allowed networks"
        return None

"""Outbound address policy: what a delivery may connect to, after DNS resolution."""

import ipaddress

import pytest
from mfg_integration_lib import netpolicy

PUBLIC_ONLY = netpolicy.AddressPolicy()


@pytest.mark.parametrize(
    ("address", "words"),
    [
        ("127.0.0.1", "loopback"), ("::1", "loopback"), ("::ffff:127.0.0.1", "loopback"),
        ("169.254.169.254", "link-local"), ("fe80::1", "link-local"),
        ("224.0.0.1", "multicast"), ("ff02::1", "multicast"),
        ("240.0.0.1", "reserved"), ("0.0.0.0", "unspecified"), ("::", "unspecified"),
        ("10.1.2.3", "private"), ("172.16.0.9", "private"), ("192.168.1.10", "private"), ("fd00::5", "private"),
        ("100.64.0.1", "private"),
    ],
)  # fmt: skip
def test_internal_addresses_are_refused_by_default(address, words):
    assert words in PUBLIC_ONLY.refusal(address)


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_are_allowed(address):
    assert PUBLIC_ONLY.refusal(address) is None


def test_a_listed_plant_network_is_allowed_and_nothing_else():
    policy = netpolicy.AddressPolicy(netpolicy.parse_networks("10.20.0.0/16"))
    assert policy.refusal("10.20.3.4") is None
    assert "private" in policy.refusal("10.21.0.1")
    assert "loopback" in policy.refusal("127.0.0.1")


def test_an_administrator_may_allow_loopback():
    policy = netpolicy.AddressPolicy(netpolicy.parse_networks("127.0.0.0/8, ::1/128"))
    assert policy.refusal("127.0.0.1") is None
    assert policy.refusal("::1") is None
    assert "link-local" in policy.refusal("169.254.169.254")


def test_parse_networks_accepts_commas_spaces_newlines_and_names_a_bad_item():
    assert netpolicy.parse_networks("10.0.0.0/8,192.168.1.0/24\nfc00::/7") == (
        ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("192.168.1.0/24"), ipaddress.ip_network("fc00::/7"),
    )  # fmt: skip
    assert netpolicy.parse_networks("") == ()
    with pytest.raises(ValueError, match="'plant'"):
        netpolicy.parse_networks("10.0.0.0/8 plant")


@pytest.mark.parametrize(
    ("network", "private"),
    [("10.20.0.0/16", True), ("192.168.0.0/16", True), ("fd12::/16", True), ("10.0.0.0/7", False),
     ("127.0.0.0/8", False), ("169.254.0.0/16", False), ("0.0.0.0/0", False)],
)  # fmt: skip
def test_only_private_ranges_are_for_companies_to_allow(network, private):
    assert netpolicy.is_private_range(ipaddress.ip_network(network)) is private

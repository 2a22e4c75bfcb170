"""A new device or network for the person.

A device is the browser (or API client) family and the system, never their versions: an update
is not a new device. A network is the address's /24 (IPv4) or /48 (IPv6), roughly one office, one
home or one mobile carrier's pool. A person never seen anywhere yet is not judged (the first
action teaches the guard), nor is an action without an address (the command line, Tertulia itself).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass

from tertulia.guard.checks.findings import NEW_DEVICE, NEW_NETWORK, Finding

MAX_UA = 512

# Order matters: Edge and Opera say "Chrome" too, Chrome says "Safari".
_BROWSERS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("Edge", re.compile(r"\bEdg(?:e|A|iOS)?/")),
    ("Opera", re.compile(r"\bOPR/|\bOpera\b")),
    ("Samsung Internet", re.compile(r"\bSamsungBrowser/")),
    ("Firefox", re.compile(r"\bFirefox/|\bFxiOS/")),
    ("Chrome", re.compile(r"\bChrome/|\bCriOS/|\bChromium/")),
    ("Safari", re.compile(r"\bVersion/[\d.]+.*\bSafari/")),
)
_SYSTEMS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("Windows", re.compile(r"\bWindows\b")),
    ("Android", re.compile(r"\bAndroid\b")),
    ("iOS", re.compile(r"\biPhone\b|\biPad\b|\biPod\b|\biOS\b")),
    ("macOS", re.compile(r"\bMac OS X\b|\bMacintosh\b")),
    ("ChromeOS", re.compile(r"\bCrOS\b")),
    ("Linux", re.compile(r"\bLinux\b|\bX11\b")),
)
# A client that is not a browser names itself first: "curl/8.5.0", "python-requests/2.32".
_PRODUCT = re.compile(r"^\s*([A-Za-z][A-Za-z0-9._-]{0,40})(?:/|\s|$)")


def device_family(user_agent: str) -> str:
    """ "Firefox on Linux", "Chrome on Android", "curl", or "unknown" (never a version)."""
    agent = (user_agent or "")[:MAX_UA]
    if not agent.strip():
        return "unknown"
    browser = next((name for name, pattern in _BROWSERS if pattern.search(agent)), "")
    system = next((name for name, pattern in _SYSTEMS if pattern.search(agent)), "")
    if not browser and not agent.startswith("Mozilla/"):
        product = _PRODUCT.match(agent)
        if product:
            return product.group(1).lower()[:64]
    browser = browser or "Browser"
    return f"{browser} on {system}"[:64] if system else browser


def network_of(address: str | None) -> str:
    """The /24 (IPv4) or /48 (IPv6) around an address; "" if there is no valid address."""
    if not address:
        return ""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return ""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


@dataclass(frozen=True)
class Device:
    family: str
    network: str


def device_findings(device: Device | None, known: Iterable[tuple[str, str]]) -> list[Finding]:
    """Findings for a person acting from `device`, who was seen before on `known` (family, network)."""
    if device is None or not device.network:
        return []
    seen = list(known)
    if not seen:
        return []  # first sighting: nothing to compare with
    findings = []
    if device.network not in {network for _, network in seen}:
        findings.append(Finding("new_network", NEW_NETWORK, {"network": device.network}))
    if device.family not in {family for family, _ in seen}:
        findings.append(Finding("new_device", NEW_DEVICE, {"device": device.family}))
    return findings

"""Which hosts a web search may use (``WEB_SEARCH_DOMAIN_FILTER_LIST``), matched as Open WebUI matches them: an
entry names a host and its subdomains (``example.org`` takes ``docs.example.org``, not ``badexample.org``);
``!entry`` excludes; an entry that is an address or a CIDR range matches the addresses the host resolves to.
With allow entries a hit must match one; an excluded match always drops it."""
from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

from shared.rag.config import listed

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def entries(raw: object) -> list[str]:
    """The stored list's entries, without the quotes a list written in a compose file keeps."""
    return [cleaned for item in listed(raw) if (cleaned := item.strip("\"'").strip())]


def _network(entry: str) -> Network | None:
    try:
        return ipaddress.ip_network(entry.lower().rstrip("."), strict=False)
    except ValueError:
        return None


def _matches(host: str, entry: str) -> bool:
    entry = entry.lower().rstrip(".")
    network = _network(entry)
    if network is not None:
        try:
            return ipaddress.ip_address(host) in network
        except ValueError:
            return False
    return host == entry or host.endswith("." + entry)


def _addresses(host: str) -> list[str]:
    try:
        return sorted({info[4][0] for info in socket.getaddrinfo(host, None)})
    except (OSError, UnicodeError):
        return []


def host_filter(raw: object) -> Callable[[str], bool]:
    """Whether a URL's host passes the filter list ``raw`` (an empty list passes everything)."""
    listed = entries(raw)
    allowed = [entry for entry in listed if not entry.startswith("!")]
    blocked = [entry[1:].strip() for entry in listed if entry.startswith("!") and entry[1:].strip()]
    resolve = any(_network(entry) is not None for entry in allowed + blocked)

    def passes(url: str) -> bool:
        host = (urlsplit(url).hostname or "").lower().rstrip(".")
        if not host:
            return False
        hosts = [host, *(_addresses(host) if resolve else [])]
        if allowed and not any(_matches(h, entry) for h in hosts for entry in allowed):
            return False
        return not any(_matches(h, entry) for h in hosts for entry in blocked)

    return passes

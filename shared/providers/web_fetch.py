"""GET a URL a user gave (a skill to import ...) without letting it reach the deployment's own network.

A URL is refused (``BadRequest``) unless it is ``http(s)`` with a host and no credentials; its host is
resolved once and every address it resolves to must be public (``ipaddress``'s ``is_global``): loopback,
private, link-local, shared, reserved and multicast addresses are refused, as Open WebUI refuses them with
``ENABLE_LOCAL_WEB_FETCH`` off. The connection goes to the address that was checked (the name is not
resolved a second time, so a DNS answer that changes between check and connect reaches nothing new; TLS
still verifies the certificate for the name). Redirects are followed by hand, each hop checked the same way.
``ENABLE_LOCAL_WEB_FETCH`` lets private and loopback addresses through (a deployment whose sources live on
its own network, and the tests' loopback servers); the cloud metadata endpoints stay refused even then.
No proxy is used: a proxy would resolve the name itself, past the check.
"""
from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import certifi
import urllib3
from urllib3.exceptions import HTTPError

from shared.config import env
from shared.errors import BadRequest, UpstreamError

REDIRECTS = (301, 302, 303, 307, 308)
CHUNK = 64 * 1024
ALWAYS_REFUSED = tuple(ipaddress.ip_network(net) for net in (
    "169.254.169.254/32", "fd00:ec2::254/128", "100.100.100.200/32", "168.63.129.16/32", "192.88.99.0/24",
    "224.0.0.0/4", "ff00::/8", "fec0::/10", "64:ff9b:1::/48",
))
"""Cloud metadata and platform endpoints, and addresses that are never a web server (Open WebUI's
``DEFAULT_WEB_FETCH_FILTER_LIST``): refused even when local fetches are allowed."""
REFUSED_NAMES = ("metadata.google.internal", "metadata.azure.com")

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class Fetched:
    url: str
    """The URL the body came from (after redirects)."""
    content_type: str
    """The media type, without parameters (``text/markdown``)."""
    body: bytes
    disposition: str = ""
    """The ``Content-Disposition`` header (a download's file name)."""


def _allowed(address: Address, local: bool) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if any(address in network for network in ALWAYS_REFUSED if network.version == address.version):
        return False
    return local or (address.is_global and not address.is_multicast)


def _addresses(host: str, port: int) -> list[Address]:
    """Every address ``host`` resolves to (an address literal is its own)."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise BadRequest(f"Could not resolve the host {host!r}.") from None
    return list(dict.fromkeys(ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos))


def checked_address(url: str) -> Address:
    """The address to connect to for ``url``; BadRequest when the URL or any address of its host is refused."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadRequest("Use an HTTP(S) URL.")
    if parts.username or parts.password:
        raise BadRequest("Use a URL without embedded credentials.")
    host = parts.hostname.rstrip(".").lower()
    if host in REFUSED_NAMES:
        raise BadRequest("The URL's host is not allowed.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise BadRequest("The URL's port is not valid.") from None
    addresses = _addresses(host, port)
    local = env("ENABLE_LOCAL_WEB_FETCH")
    if not addresses or not all(_allowed(address, local) for address in addresses):
        raise BadRequest("The URL points to a private or local network address, which is not allowed.")
    return addresses[0]


def _pool(url: str, address: Address, timeout: float) -> urllib3.HTTPConnectionPool:
    """A connection to ``address`` for ``url``'s host (TLS checks the certificate against the host name)."""
    parts = urlsplit(url)
    options = {"timeout": urllib3.Timeout(connect=min(timeout, 10.0), read=timeout), "retries": False, "maxsize": 1}
    if parts.scheme == "https":
        return urllib3.HTTPSConnectionPool(
            str(address), parts.port or 443, cert_reqs="CERT_REQUIRED",
            ca_certs=env("REQUESTS_CA_BUNDLE") or certifi.where(), server_hostname=parts.hostname,
            assert_hostname=parts.hostname, **options)
    return urllib3.HTTPConnectionPool(str(address), parts.port or 80, **options)


def _target(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _body(response: urllib3.BaseHTTPResponse, max_bytes: int, deadline: float) -> bytes:
    data = bytearray()
    for chunk in response.stream(CHUNK):
        data.extend(chunk)
        if len(data) > max_bytes:
            raise BadRequest(f"The download exceeds {max_bytes} bytes.")
        if time.monotonic() > deadline:
            raise UpstreamError("The download took too long.", 504)
    return bytes(data)


def _type_allowed(content_type: str, content_types: tuple[str, ...] | None) -> bool:
    """Whether ``content_type`` is one the caller can use (``text/*`` style prefixes match a whole family)."""
    if content_types is None:
        return True
    return any(content_type == wanted or (wanted.endswith("/*") and content_type.startswith(wanted[:-1]))
               for wanted in content_types)


def fetch(url: str, *, max_bytes: int, timeout: float = 60.0, max_redirects: int = 5,
          content_types: tuple[str, ...] | None = None) -> Fetched:
    """The body of ``url`` (status 200) after at most ``max_redirects`` checked redirects, within
    ``timeout`` seconds in all. BadRequest for a refused URL or address, an answer other than 200, a media
    type outside ``content_types`` (checked before the body is read, so a web page loader never downloads a
    video) or a body beyond ``max_bytes``; UpstreamError (502/504) when the server cannot be reached or is
    too slow."""
    deadline = time.monotonic() + timeout
    for _hop in range(max_redirects + 1):
        address = checked_address(url)
        parts = urlsplit(url)
        headers = {"Host": parts.netloc, "User-Agent": "Switchyard", "Accept": "*/*"}
        try:
            with _pool(url, address, timeout) as pool:
                response = pool.urlopen("GET", _target(url), headers=headers, redirect=False,
                                        preload_content=False, assert_same_host=False)
                if response.status in REDIRECTS and response.headers.get("Location"):
                    url = urljoin(url, response.headers["Location"])
                    continue
                if response.status != 200:
                    raise BadRequest(f"The server answered {response.status}.")
                content_type = (response.headers.get("Content-Type") or "").split(";")[0].strip().lower()
                if not _type_allowed(content_type, content_types):
                    raise BadRequest(f"The URL answered {content_type or 'an unknown content type'}, "
                                     "which cannot be loaded.")
                return Fetched(url, content_type, _body(response, max_bytes, deadline),
                               response.headers.get("Content-Disposition") or "")
        except urllib3.exceptions.TimeoutError:
            raise UpstreamError("The server took too long to answer.", 504) from None
        except HTTPError as error:
            raise UpstreamError(f"Could not reach the server: {type(error).__name__}.", 502) from None
    raise BadRequest("Too many redirects.")


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    """The start of the answer's body (at most the ``keep`` bytes asked for)."""


def post(url: str, body: bytes, headers: dict[str, str], *, timeout: float, keep: int = 1024) -> Answer:
    """POST ``body`` to ``url`` (checked as :func:`fetch` checks it; no redirect is followed) and the answer,
    whatever its status. BadRequest for a refused URL or address; a transient UpstreamError (502/504) when
    the server cannot be reached or takes longer than ``timeout`` seconds."""
    address = checked_address(url)
    headers = {"Host": urlsplit(url).netloc, "User-Agent": "Switchyard", **headers}
    try:
        with _pool(url, address, timeout) as pool:
            response = pool.urlopen("POST", _target(url), body=body, headers=headers, redirect=False,
                                    preload_content=False, assert_same_host=False)
            return Answer(response.status, response.read(keep))
    except urllib3.exceptions.TimeoutError:
        raise UpstreamError("The server took too long to answer.", 504, transient=True) from None
    except HTTPError as error:
        raise UpstreamError(f"Could not reach the server: {type(error).__name__}.", 502, transient=True) from None

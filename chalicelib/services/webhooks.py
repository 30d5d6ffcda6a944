"""POST a delivered message to a filter's http(s) target, never into our own network.

The host is resolved first and every address it resolves to is checked: loopback,
link-local (cloud metadata lives there), private, shared, multicast, reserved and
unspecified ranges are refused unless WEBHOOKS_ALLOW_PRIVATE is set (local development).
The connection then goes to the checked address itself (TLS still verifies the host
name), so a second DNS answer cannot swap in another address between check and use.
"""
from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from urllib.parse import urlsplit

from chalicelib.config import settings

TIMEOUT_S = 10


class TargetRefused(Exception):
    """The target may not be reached (a refused address, or a malformed URL)."""


def check_address(address: str) -> None:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if not ip.is_global or ip.is_multicast:
        raise TargetRefused(f"{address} is not a public address")


def resolve(host: str, port: int) -> list[str]:
    """Every address of `host`, each checked (unless private targets are allowed)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise TargetRefused(f"cannot resolve {host}: {error}") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not settings().webhooks_allow_private:
        for address in addresses:
            check_address(address)
    return addresses


class _PinnedHTTPS(http.client.HTTPSConnection):
    """HTTPS to a fixed address, verifying the certificate for the URL's host."""

    def __init__(self, address: str, host: str, port: int) -> None:
        super().__init__(host, port, timeout=TIMEOUT_S, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def post(url: str, raw: bytes) -> int:
    """POST `raw` as message/rfc822; the answer's status. Raises TargetRefused, OSError."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetRefused("not an http(s) URL")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    address = resolve(parts.hostname, port)[0]
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        connection = _PinnedHTTPS(address, parts.hostname, port)
    else:
        connection = http.client.HTTPConnection(address, port, timeout=TIMEOUT_S)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("POST", path, body=raw, headers={
            "Host": parts.netloc.rsplit("@", 1)[-1], "Content-Type": "message/rfc822"})
        return connection.getresponse().status
    finally:
        connection.close()

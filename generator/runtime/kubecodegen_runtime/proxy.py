"""Which proxy (if any) a request to the API server goes through: Go's rules, pure.

client-go takes its proxy from ``http.ProxyFromEnvironment``, i.e. Go's
``golang.org/x/net/http/httpproxy``; httpx's own environment handling differs (no CIDR
entries in ``NO_PROXY``, other wildcard rules), so the runtime decides here, once per
client, and hands httpx an explicit proxy URL. The rules, as Go implements them:

* ``HTTPS_PROXY``/``https_proxy`` for ``https`` servers, ``HTTP_PROXY``/``http_proxy``
  for ``http`` ones (upper case wins); ``HTTP_PROXY`` is ignored when ``REQUEST_METHOD``
  is set (a CGI environment, where it could come from a request header: "httpoxy").
* A proxy value without a scheme means ``http://``.
* ``localhost`` and loopback addresses never go through a proxy.
* ``NO_PROXY`` is a comma-separated list, case-insensitive, each entry one of: ``*``
  (nothing is proxied); an IP network in CIDR form (``10.0.0.0/8``, matches any address
  in it); an IP address, optionally with ``:port`` (``[::1]:443`` for IPv6); a host name,
  optionally with ``:port``, matching that host and every subdomain
  (``example.com`` matches ``example.com`` and ``a.example.com``); a name with a leading
  ``.`` or ``*.`` matching subdomains only. An entry with a port matches only that port
  (the server's port, 443/80 by default). Host names are never resolved to addresses:
  a CIDR entry matches only servers given by IP.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

_DEFAULT_PORTS = {"http": "80", "https": "443"}

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def _env(env: Mapping[str, str], name: str) -> str:
    """Go's ``getEnvAny(NAME, name)``: the upper-case variable if set, else lower case."""
    value = env.get(name.upper())
    if value is None:
        value = env.get(name.lower())
    return value or ""


def _ip(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _split_host_port(text: str) -> tuple[str, str] | None:
    """Go's ``net.SplitHostPort`` for the shapes NO_PROXY entries take, else ``None``."""
    if text.startswith("["):
        end = text.find("]")
        if end < 0 or not text[end + 1:].startswith(":"):
            return None
        return text[1:end], text[end + 2:]
    if text.count(":") != 1:
        return None
    host, port = text.split(":")
    return host, port


@dataclass(frozen=True)
class _Domain:
    suffix: str  # always starts with "."
    port: str
    exact_too: bool  # "example.com" also matches the host itself; ".example.com" does not

    def matches(self, host: str, port: str) -> bool:
        hit = host.endswith(self.suffix) or (self.exact_too and host == self.suffix[1:])
        return hit and (not self.port or self.port == port)


@dataclass(frozen=True)
class _Address:
    ip: IPAddress
    port: str

    def matches(self, ip: IPAddress, port: str) -> bool:
        return ip == self.ip and (not self.port or self.port == port)


@dataclass(frozen=True)
class NoProxy:
    """A parsed ``NO_PROXY`` value; :meth:`excludes` says whether a host bypasses proxies."""

    everything: bool
    networks: tuple[IPNetwork, ...]
    addresses: tuple[_Address, ...]
    domains: tuple[_Domain, ...]

    @classmethod
    def parse(cls, value: str) -> NoProxy:
        everything = False
        networks: list[IPNetwork] = []
        addresses: list[_Address] = []
        domains: list[_Domain] = []
        for raw in value.split(","):
            entry = raw.strip().lower()
            if not entry:
                continue
            if entry == "*":
                everything = True
                continue
            if "/" in entry:
                try:
                    networks.append(ipaddress.ip_network(entry, strict=False))
                except ValueError:
                    pass  # not a CIDR: Go goes on to read it as a host
                else:
                    continue
            split = _split_host_port(entry)
            if split is not None:
                host, port = split
                if not host:
                    continue  # ":80" -- no host part; Go ignores the entry
            else:
                host, port = entry, ""
            ip = _ip(host)
            if ip is not None:
                addresses.append(_Address(ip, port))
                continue
            if host.startswith("*."):
                host = host[1:]
            exact_too = not host.startswith(".")
            if exact_too:
                host = "." + host
            if host != ".":
                domains.append(_Domain(host, port, exact_too))
        return cls(everything, tuple(networks), tuple(addresses), tuple(domains))

    def excludes(self, host: str, port: str) -> bool:
        """Whether ``host:port`` must be reached directly (host lower-cased, no brackets)."""
        if self.everything:
            return True
        ip = _ip(host)
        if ip is not None and (
            any(ip in network for network in self.networks)
            or any(address.matches(ip, port) for address in self.addresses)
        ):
            return True
        # as in Go, name entries are matched against the text of addresses too
        return any(domain.matches(host, port) for domain in self.domains)


def _normalise_proxy(value: str) -> str:
    """Go's ``parseProxy``: a value without a known scheme is an ``http://`` proxy."""
    scheme = value.split("://", 1)[0].lower() if "://" in value else ""
    if scheme in ("http", "https", "socks5", "socks5h"):
        return value
    return f"http://{value}"


def proxy_for(server: str, env: Mapping[str, str]) -> str | None:
    """The proxy URL for requests to ``server`` under environment ``env``, or ``None``.

    ``server`` is the API server URL (``https://host:port``); ``env`` is usually
    ``os.environ``.
    """
    parts = urlsplit(server)
    scheme = parts.scheme.lower()
    if scheme == "https":
        proxy = _env(env, "https_proxy")
    elif scheme == "http":
        proxy = "" if env.get("REQUEST_METHOD") else _env(env, "http_proxy")
    else:
        return None
    if not proxy:
        return None
    host = (parts.hostname or "").lower()
    try:
        port = str(parts.port) if parts.port is not None else _DEFAULT_PORTS[scheme]
    except ValueError:
        port = _DEFAULT_PORTS[scheme]
    if host == "localhost":
        return None
    ip = _ip(host)
    if ip is not None and ip.is_loopback:
        return None
    if NoProxy.parse(_env(env, "no_proxy")).excludes(host, port):
        return None
    return _normalise_proxy(proxy)

"""The proxy decision follows Go's golang.org/x/net/http/httpproxy, as client-go does.

The cases are the situations Go's own tests cover (its NO_PROXY list of names, suffixes,
wildcards, addresses with and without ports, CIDRs; loopback; CGI; scheme defaults),
written out here as (server URL, environment) -> proxy.
"""

from __future__ import annotations

import pytest

from kubecodegen_runtime.proxy import NoProxy, proxy_for

GO_NO_PROXY = (
    "foobar.com, .barbaz.net, *.wildcard.io, 192.168.1.1, 192.168.1.2:81, 192.168.1.3:80, "
    "10.0.0.0/30, 2001:db8::52:0:1, [2001:db8::52:0:2]:443, [2001:db8::52:0:3]:80, "
    "2002:db8:a::45/64"
)


@pytest.mark.parametrize(
    ("host", "proxied"),
    [
        ("localhost", False),  # never proxied, whatever NO_PROXY says
        ("127.0.0.1", False),
        ("127.0.0.2", False),
        ("[::1]", False),
        ("[::2]", True),  # not loopback
        ("192.168.1.1", False),  # exact address
        ("192.168.1.2", True),  # listed only for port 81
        ("192.168.1.3", False),  # listed for port 80, the http default
        ("10.0.0.2", False),  # in 10.0.0.0/30
        ("10.0.0.4", True),  # just outside it
        ("[2001:db8::52:0:1]", False),
        ("[2001:db8::52:0:2]", True),  # listed only for 443
        ("[2001:db8::52:0:3]", False),
        ("[2002:db8:a::123]", False),  # in the /64
        ("[fe80::424b:c8be:1643:a1b6]", True),
        ("barbaz.net", True),  # ".barbaz.net" is subdomains only
        ("www.barbaz.net", False),
        ("foobar.com", False),  # "foobar.com" is the host and its subdomains
        ("www.foobar.com", False),
        ("foofoobar.com", True),  # a suffix of the text is not a subdomain
        ("baz.com", True),
        ("localhost.net", True),
        ("local.localhost", True),
        ("barbarbaz.net", True),
        ("wildcard.io", True),  # "*.wildcard.io" is subdomains only
        ("nested.wildcard.io", False),
        ("awildcard.io", True),
        ("FOOBAR.COM", False),  # case-insensitive
    ],
)
def test_go_no_proxy_table(host: str, proxied: bool) -> None:
    env = {"HTTP_PROXY": "http://proxy.test:3128", "NO_PROXY": GO_NO_PROXY}
    assert (proxy_for(f"http://{host}/", env) is not None) is proxied


@pytest.mark.parametrize(
    ("server", "env", "want"),
    [
        ("https://k8s.test", {"HTTPS_PROXY": "secure.proxy:1"}, "http://secure.proxy:1"),
        ("https://k8s.test", {"https_proxy": "https://secure.proxy"}, "https://secure.proxy"),
        ("https://k8s.test", {"HTTPS_PROXY": "http://upper", "https_proxy": "http://lower"},
         "http://upper"),
        ("https://k8s.test", {"HTTP_PROXY": "http://plain"}, None),  # https uses HTTPS_PROXY
        ("http://k8s.test", {"HTTPS_PROXY": "http://secure"}, None),
        ("http://k8s.test", {"HTTP_PROXY": "cache.corp:1234"}, "http://cache.corp:1234"),
        ("https://k8s.test", {"HTTPS_PROXY": "socks5://127.0.0.1:1080"}, "socks5://127.0.0.1:1080"),
        # CGI (httpoxy): HTTP_PROXY may come from a request header; HTTPS_PROXY still counts
        ("http://k8s.test", {"HTTP_PROXY": "http://evil", "REQUEST_METHOD": "GET"}, None),
        ("https://k8s.test", {"HTTPS_PROXY": "http://p", "REQUEST_METHOD": "GET"}, "http://p"),
        ("https://k8s.test", {"HTTPS_PROXY": "http://p", "NO_PROXY": "*"}, None),
        ("https://k8s.test", {"HTTPS_PROXY": "http://p", "no_proxy": "k8s.test"}, None),
        ("https://k8s.test", {"HTTPS_PROXY": "http://p", "NO_PROXY": "k8s.test:443"}, None),
        ("https://k8s.test:6443", {"HTTPS_PROXY": "http://p", "NO_PROXY": "k8s.test:443"},
         "http://p"),
        ("https://k8s.test:6443", {"HTTPS_PROXY": "http://p", "NO_PROXY": "k8s.test:6443"}, None),
        ("https://10.96.0.1:443", {"HTTPS_PROXY": "http://p", "NO_PROXY": "10.0.0.0/8"}, None),
        ("https://11.0.0.1", {"HTTPS_PROXY": "http://p", "NO_PROXY": "10.0.0.0/8"}, "http://p"),
        # a CIDR never matches a name: names are not resolved
        ("https://kubernetes.test", {"HTTPS_PROXY": "http://p", "NO_PROXY": "10.0.0.0/8"},
         "http://p"),
        ("https://k8s.test", {"HTTPS_PROXY": "http://p", "NO_PROXY": " , :80, "}, "http://p"),
        ("https://k8s.test", {"HTTPS_PROXY": ""}, None),
        ("https://localhost:6443", {"HTTPS_PROXY": "http://p"}, None),
    ],
)
def test_environment_rules(server: str, env: dict[str, str], want: str | None) -> None:
    assert proxy_for(server, env) == want


def test_parsed_no_proxy_keeps_each_kind_of_entry() -> None:
    parsed = NoProxy.parse("*.a.io, b.io:8443, 10.0.0.0/8, ::1, [fd00::1]:6443, ,")
    assert not parsed.everything
    assert [str(n) for n in parsed.networks] == ["10.0.0.0/8"]
    assert [(str(a.ip), a.port) for a in parsed.addresses] == [("::1", ""), ("fd00::1", "6443")]
    assert [(d.suffix, d.port, d.exact_too) for d in parsed.domains] == [
        (".a.io", "", False), (".b.io", "8443", True)]
    assert parsed.excludes("b.io", "8443") and not parsed.excludes("b.io", "443")

"""The test kubelet's pure pieces: log selection, query parsing, protocol choice."""

from __future__ import annotations

import datetime

import h11
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.harness.kubelet_exec import StreamOptions
from tests.harness.kubelet_logs import ByteLimit, LogEntry, LogOptions, initial, rfc3339_nano
from tests.harness.kubelet_portforward import parse_ports
from tests.harness.kubelet_servers import proxyable
from tests.harness.kubelet_ws import choose_protocol


@given(st.integers(min_value=0, max_value=4_000_000_000 * 1_000_000_000))
def test_rfc3339_nano_is_gos_format(time_ns: int) -> None:
    text = rfc3339_nano(time_ns)
    assert text.endswith("Z")
    whole, _, fraction = text[:-1].partition(".")
    assert not fraction.endswith("0")  # Go drops trailing zeros (and the dot with them)
    seconds = datetime.datetime.strptime(whole, "%Y-%m-%dT%H:%M:%S").replace(
        tzinfo=datetime.timezone.utc
    )
    nanos = int(fraction.ljust(9, "0")) if fraction else 0
    assert int(seconds.timestamp()) * 1_000_000_000 + nanos == time_ns


@given(
    st.lists(st.integers(min_value=0, max_value=100), max_size=20),
    st.none() | st.integers(min_value=0, max_value=25),
    st.none() | st.integers(min_value=0, max_value=100),
)
def test_since_then_tail(times: list[int], tail: int | None, since: int | None) -> None:
    entries = [LogEntry(t, "stdout", f"{i}\n".encode()) for i, t in enumerate(sorted(times))]
    chosen = initial(entries, LogOptions(tail_lines=tail, since_ns=since))
    expected = [e for e in entries if since is None or e.time_ns >= since]
    if tail is not None:
        expected = expected[max(len(expected) - tail, 0) :]
    assert chosen == expected


def test_byte_limit_cuts_across_entries() -> None:
    limit = ByteLimit(5)
    assert limit.take(b"abc") == b"abc" and not limit.exhausted()
    assert limit.take(b"defg") == b"de" and limit.exhausted()
    assert limit.take(b"x") == b""
    assert ByteLimit(None).take(b"all") == b"all"


def test_stream_options() -> None:
    assert StreamOptions.parse({"output": ["1"], "tty": ["1"]}) == StreamOptions(
        False, True, False, True
    )
    with pytest.raises(ValueError, match="at least 1"):
        StreamOptions.parse({"tty": ["1"]})
    with pytest.raises(ValueError, match="tty and stderr"):
        StreamOptions.parse({"error": ["1"], "tty": ["1"]})


def test_parse_ports() -> None:
    assert parse_ports({"port": ["80,443", "8080"]}) == [80, 443, 8080]
    for bad in ({}, {"port": [""]}, {"port": ["0"]}, {"port": ["x"]}, {"port": ["70000"]}):
        with pytest.raises(ValueError):
            parse_ports(bad)


def _request(protocols: str | None) -> h11.Request:
    headers = [("Host", "x"), ("Upgrade", "websocket")]
    if protocols is not None:
        headers.append(("Sec-WebSocket-Protocol", protocols))
    return h11.Request(method="GET", target="/", headers=headers)


def test_protocol_choice_is_the_clients_first_supported() -> None:
    supported = ("v5.channel.k8s.io", "v4.channel.k8s.io", "")
    assert choose_protocol(_request("v4.channel.k8s.io, v5.channel.k8s.io"), supported) == (
        "v4.channel.k8s.io"
    )
    assert choose_protocol(_request("base64.channel.k8s.io"), supported) is None
    assert choose_protocol(_request(None), supported) == ""


def test_proxyable_matches_is_proxyable_ip() -> None:
    assert proxyable("192.0.2.2") and proxyable("10.1.2.3")
    assert not proxyable("127.0.0.1") and not proxyable("169.254.1.1")
    assert not proxyable("224.0.0.1")

"""The pure portforward.k8s.io core: channel pairs, port prefixes, error text, port lists."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubecodegen_runtime.streams.portforward import (
    ABNORMAL_CLOSURE,
    MAX_ERROR_BYTES,
    Data,
    Error,
    PortForwardError,
    PortForwardProtocol,
    check_end,
    check_subprotocol,
    parse_ports,
    port_params,
)


def prefix(port: int) -> bytes:
    return port.to_bytes(2, "little")


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    return [data[a:b] for a, b in itertools.pairwise(points)]


def test_client_frames_carry_channel_and_data_only() -> None:
    proto = PortForwardProtocol([80, 443])
    assert proto.data(80, b"GET /") == b"\x00GET /"
    assert proto.data(443, b"x") == b"\x02x"
    with pytest.raises(ValueError, match="8080"):
        proto.data(8080, b"x")


def test_prefix_then_data_per_channel() -> None:
    proto = PortForwardProtocol([80, 443])
    assert proto.receive(b"\x00" + prefix(80)) == []
    assert proto.receive(b"\x01" + prefix(80)) == []
    assert proto.receive(b"\x02" + prefix(443) + b"hi") == [Data(443, b"hi")]
    assert proto.receive(b"\x00hello") == [Data(80, b"hello")]
    # the prefix is stripped once per channel: a later frame starting with the same two
    # bytes is data
    assert proto.receive(b"\x00" + prefix(80)) == [Data(80, prefix(80))]


def test_error_channel_text() -> None:
    proto = PortForwardProtocol([8080])
    proto.receive(b"\x01" + prefix(8080))
    msg = b"error forwarding port 8080 to pod p, uid : dial tcp 127.0.0.1:8080: connection refused"
    events = proto.receive(b"\x01" + msg)
    assert events == [Error(8080, msg.decode())]
    assert proto.error_text(8080) == msg.decode()


def test_error_text_is_escaped_and_bounded() -> None:
    proto = PortForwardProtocol([1])
    (event,) = proto.receive(b"\x01" + prefix(1) + b"bad\x1b]0;title\x07")
    assert isinstance(event, Error)
    assert "\x1b" not in event.message and "U+001B" in event.message
    proto.receive(b"\x01" + b"e" * (2 * MAX_ERROR_BYTES))
    assert len(proto.error_text(1)) <= MAX_ERROR_BYTES + 64


def test_wrong_port_prefix_is_a_protocol_error() -> None:
    proto = PortForwardProtocol([80])
    with pytest.raises(PortForwardError, match="announced port 81"):
        proto.receive(b"\x00" + prefix(81))


def test_unopened_channel_is_a_protocol_error() -> None:
    proto = PortForwardProtocol([80])
    with pytest.raises(PortForwardError, match="channel 2"):
        proto.receive(b"\x02" + prefix(80))


def test_empty_message_carries_nothing() -> None:
    assert PortForwardProtocol([80]).receive(b"") == []


@given(
    ports=st.lists(st.integers(1, 65535), min_size=1, max_size=5, unique=True),
    payloads=st.lists(st.binary(max_size=50), max_size=6),
    cuts=st.lists(st.integers(0, 400), max_size=8),
    which=st.integers(0, 4),
)
def test_data_survives_any_framing(
    ports: list[int], payloads: list[bytes], cuts: list[int], which: int
) -> None:
    """However the server frames a channel (prefix split, joined with data, empty frames),
    the data delivered is exactly the bytes after the two-byte prefix, for that port."""
    port = ports[which % len(ports)]
    channel = 2 * ports.index(port)
    stream = prefix(port) + b"".join(payloads)
    proto = PortForwardProtocol(ports)
    got = bytearray()
    for piece in split(stream, cuts):
        for event in proto.receive(bytes((channel,)) + piece):
            assert isinstance(event, Data) and event.port == port
            got += event.data
    assert bytes(got) == b"".join(payloads)


@given(st.binary(min_size=2, max_size=2))
def test_any_other_prefix_is_refused(announced: bytes) -> None:
    proto = PortForwardProtocol([5000])
    if announced == prefix(5000):
        assert proto.receive(b"\x00" + announced + b"x") == [Data(5000, b"x")]
    else:
        with pytest.raises(PortForwardError):
            proto.receive(b"\x00" + announced + b"x")


def test_port_lists() -> None:
    assert parse_ports([8080, (0, 80), (9000, 443)]) == [(8080, 8080), (0, 80), (9000, 443)]
    assert port_params([80, 443]) == [("ports", "80"), ("ports", "443")]
    for bad in ([], [0], [70000], [True], [(1, 2, 3)], [80, (8080, 80)], [(5, 1), (5, 2)],
                [(-1, 80)]):
        with pytest.raises(ValueError):
            parse_ports(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        PortForwardProtocol([])
    with pytest.raises(ValueError):
        PortForwardProtocol(list(range(1, 129)))


def test_lost_connection_is_an_error_a_close_is_not() -> None:
    check_end(80, 1000)
    check_end(80, None)
    with pytest.raises(PortForwardError, match="lost the connection"):
        check_end(80, ABNORMAL_CLOSURE)
    check_subprotocol(80, "v4.channel.k8s.io")
    check_subprotocol(80, None)
    with pytest.raises(PortForwardError, match="unknown subprotocol"):
        check_subprotocol(80, "v5.channel.k8s.io")

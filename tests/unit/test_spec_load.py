"""Loading spec documents from built-in package data, files, raw bytes and http(s) URLs.

HTTP cases run against a real ``http.server`` on 127.0.0.1 serving static documents (what
``--spec https://host/openapi/v2`` fetches); nothing is mocked.
"""

from __future__ import annotations

import contextlib
import datetime
import gzip
import http.server
import ipaddress
import json
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import FrozenInstanceError
from pathlib import Path
from typing import ClassVar

import pytest

from kubecodegen.spec import (
    DEFAULT_SPEC,
    LoadedSpec,
    SpecError,
    available_builtin_versions,
    load_spec,
    load_spec_bytes,
)
from kubecodegen.spec.load import redact_url

SPECS = Path(__file__).parents[1] / "data" / "specs"
MINIMAL = (Path(__file__).parent / "spec_corpus" / "valid_minimal.json").read_bytes()


# --- built-in specs -------------------------------------------------------------------


def test_available_builtin_versions_lists_the_package_data() -> None:
    assert available_builtin_versions() == ["v1.20", "v1.35"]


@pytest.mark.parametrize(
    ("source", "label", "minor"),
    [
        ("builtin:v1.35", "builtin:v1.35", "35"),
        ("builtin:1.35", "builtin:v1.35", "35"),
        ("builtin:v1.20", "builtin:v1.20", "20"),
    ],
)
def test_builtin_spec(source: str, label: str, minor: str) -> None:
    spec = load_spec(source)
    assert spec.source == label
    assert spec.document["swagger"] == "2.0"
    assert spec.document["info"]["version"].startswith(f"v1.{minor}.")


def test_default_spec_is_v1_35() -> None:
    assert DEFAULT_SPEC == "builtin:v1.35"
    spec = load_spec(None)
    assert spec.source == "builtin:v1.35"
    assert spec.document["info"]["version"].startswith("v1.35.")


def test_unknown_builtin_version_lists_available_ones() -> None:
    with pytest.raises(SpecError) as raised:
        load_spec("builtin:v1.99")
    assert raised.value.source == "builtin:v1.99"
    assert "no built-in spec for version 'v1.99'" in raised.value.message
    assert "builtin:v1.20, builtin:v1.35" in raised.value.message


def test_loaded_spec_is_frozen_and_its_repr_is_short() -> None:
    spec = load_spec("builtin:v1.20")
    with pytest.raises(FrozenInstanceError):
        spec.source = "other"  # type: ignore[misc]
    assert repr(spec) == "LoadedSpec(source='builtin:v1.20')"


# --- files ----------------------------------------------------------------------------


def test_plain_json_file(tmp_path: Path) -> None:
    path = tmp_path / "swagger.json"
    path.write_bytes(MINIMAL)
    spec = load_spec(str(path))
    assert spec == LoadedSpec(str(path), json.loads(MINIMAL))


def test_gzip_file() -> None:
    path = SPECS / "kubernetes_v1.30.0.json.gz"
    spec = load_spec(str(path))
    assert spec.source == str(path)
    assert spec.document["info"]["version"].startswith("v1.30.")


def test_gzip_is_detected_by_magic_bytes_not_name(tmp_path: Path) -> None:
    path = tmp_path / "swagger.json"
    path.write_bytes(gzip.compress(MINIMAL))
    assert load_spec(str(path)).document == json.loads(MINIMAL)


def test_plain_json_named_gz_is_still_read(tmp_path: Path) -> None:
    path = tmp_path / "swagger.json.gz"
    path.write_bytes(MINIMAL)
    assert load_spec(str(path)).document == json.loads(MINIMAL)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as raised:
        load_spec(str(tmp_path / "nope.json"))
    assert raised.value.message == "file not found"
    assert raised.value.source == str(tmp_path / "nope.json")


def test_directory_instead_of_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="is a directory"):
        load_spec(str(tmp_path))


def test_file_over_the_size_cap(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    path.write_bytes(MINIMAL)
    with pytest.raises(SpecError, match="larger than"):
        load_spec(str(path), max_bytes=len(MINIMAL) - 1)
    assert load_spec(str(path), max_bytes=len(MINIMAL)).document["swagger"] == "2.0"


def test_gzip_bomb_is_capped_after_decompression() -> None:
    bomb = gzip.compress(b"{" + b" " * 2_000_000 + b"}")
    assert len(bomb) < 100_000
    with pytest.raises(SpecError, match="decompressed document is larger than"):
        load_spec_bytes(bomb, "bomb.json.gz", max_bytes=1_000_000)


def test_unsupported_url_scheme() -> None:
    with pytest.raises(SpecError, match="unsupported URL scheme 'ftp'"):
        load_spec("ftp://example.com/swagger.json")


# --- raw bytes ------------------------------------------------------------------------


def test_load_spec_bytes_plain_gzip_and_bom() -> None:
    expected = json.loads(MINIMAL)
    assert load_spec_bytes(MINIMAL, "cluster").document == expected
    assert load_spec_bytes(gzip.compress(MINIMAL), "cluster").document == expected
    assert load_spec_bytes(b"\xef\xbb\xbf" + MINIMAL, "cluster").document == expected
    assert load_spec_bytes(MINIMAL, "cluster").source == "cluster"


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b'{\n  "swagger": "2.0",\n  "paths": {\n', "invalid JSON at line 4, column 1"),
        (b'{"a": 1,}', "invalid JSON at line 1, column 9: Expecting property name"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"x": Infinity}', "Infinity is not valid JSON"),
        (b"null", "got null"),
        (b"42", "got an integer"),
    ],
)
def test_load_spec_bytes_errors(data: bytes, fragment: str) -> None:
    with pytest.raises(SpecError) as raised:
        load_spec_bytes(data, "cluster")
    assert fragment in raised.value.message
    assert raised.value.pointer == ""
    assert raised.value.source == "cluster"


# --- http(s) --------------------------------------------------------------------------


class _Handler(http.server.BaseHTTPRequestHandler):
    """Serves a few fixed routes the way a static file server or an API server would."""

    routes: ClassVar[dict[str, tuple[int, dict[str, str], bytes]]] = {}

    def do_GET(self) -> None:
        status, headers, body = self.routes.get(self.path.split("?")[0], (404, {}, b"not found"))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def _serve(context: ssl.SSLContext | None = None) -> Iterator[str]:
    """Run a real HTTP(S) server on a free local port for the duration of the block."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    scheme = "https" if context else "http"
    try:
        yield f"{scheme}://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture()
def http_base() -> Iterator[str]:
    gzipped = gzip.compress(MINIMAL)
    _Handler.routes = {
        "/openapi/v2": (200, {"Content-Type": "application/json"}, MINIMAL),
        "/encoded": (
            200,
            {"Content-Type": "application/json", "Content-Encoding": "gzip"},
            gzipped,
        ),
        "/file.json.gz": (200, {"Content-Type": "application/octet-stream"}, gzipped),
        "/moved": (302, {"Location": "/openapi/v2"}, b""),
        "/loop": (302, {"Location": "/loop"}, b""),
        "/forbidden": (403, {"Content-Type": "application/json"}, b'{"kind":"Status"}'),
        "/html": (200, {"Content-Type": "text/html"}, b"<html><body>login</body></html>"),
    }
    with _serve() as base:
        yield base


@pytest.mark.parametrize("route", ["/openapi/v2", "/encoded", "/file.json.gz", "/moved"])
def test_http_fetch(http_base: str, route: str) -> None:
    spec = load_spec(http_base + route)
    assert spec.document == json.loads(MINIMAL)
    assert spec.source == http_base + route


@pytest.mark.parametrize(
    ("route", "fragment"),
    [
        ("/forbidden", "HTTP 403 Forbidden"),
        ("/missing", "HTTP 404 Not Found"),
        ("/loop", "too many redirects"),
        ("/html", "looks like an HTML"),
    ],
)
def test_http_errors(http_base: str, route: str, fragment: str) -> None:
    with pytest.raises(SpecError) as raised:
        load_spec(http_base + route)
    assert fragment in raised.value.message
    assert raised.value.source == http_base + route


def test_http_response_over_the_size_cap(http_base: str) -> None:
    with pytest.raises(SpecError, match="response is larger than"):
        load_spec(http_base + "/openapi/v2", max_bytes=100)


def test_http_credentials_never_appear_in_errors(http_base: str) -> None:
    url = http_base.replace("http://", "http://admin:hunter2@") + "/missing?token=s3cr3t"
    with pytest.raises(SpecError) as raised:
        load_spec(url)
    text = str(raised.value) + repr(raised.value)
    assert "hunter2" not in text
    assert "s3cr3t" not in text
    assert "HTTP 404" in text


def test_redact_url() -> None:
    assert redact_url("https://u:p@h:6443/openapi/v2?token=x&a=b#frag") == (
        "https://***@h:6443/openapi/v2?token=***&a=***"
    )
    assert redact_url("https://h/openapi/v2") == "https://h/openapi/v2"


def test_connection_refused() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(SpecError, match="cannot connect"):
        load_spec(f"http://127.0.0.1:{port}/openapi/v2", timeout=5)


def test_timeout() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        with pytest.raises(SpecError, match=r"timed out after 0\.5 s"):
            load_spec(f"http://127.0.0.1:{port}/openapi/v2", timeout=0.5)


def _self_signed_context(tmp_path: Path) -> ssl.SSLContext:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_file = tmp_path / "tls.crt"
    key_file = tmp_path / "tls.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    return context


def test_https_with_untrusted_certificate_is_refused(tmp_path: Path) -> None:
    """TLS is verified: a self-signed server is an error, not a silent fetch."""
    _Handler.routes = {"/openapi/v2": (200, {"Content-Type": "application/json"}, MINIMAL)}
    with _serve(_self_signed_context(tmp_path)) as base:
        assert base.startswith("https://")
        with pytest.raises(SpecError) as raised:
            load_spec(base + "/openapi/v2", timeout=5)
        assert "cannot connect" in raised.value.message
        assert "CERTIFICATE_VERIFY_FAILED" in raised.value.message


def test_nesting_beyond_the_limit_is_a_spec_error_naming_the_pointer() -> None:
    from kubecodegen.spec.load import MAX_NESTING

    def nested(depth: int) -> bytes:
        return b'{"swagger": "2.0", "x": ' + b'{"a": ' * (depth - 1) + b"1" + b"}" * (depth - 1) + b"}"

    assert load_spec_bytes(nested(MAX_NESTING), "ok.json").document["swagger"] == "2.0"
    with pytest.raises(SpecError) as info:
        load_spec_bytes(nested(MAX_NESTING + 1), "deep.json")
    assert info.value.pointer == "/x" + "/a" * (MAX_NESTING - 1)
    assert f"nested more than {MAX_NESTING} levels" in info.value.message
    with pytest.raises(SpecError):  # arrays count too
        load_spec_bytes(b'{"x": ' + b"[" * 500 + b"]" * 500 + b"}", "arrays.json")

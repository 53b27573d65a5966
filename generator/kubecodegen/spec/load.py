"""Read a swagger document from a file, an http(s) URL or the specs shipped in the package.

Loading only turns bytes into a JSON object: it decompresses gzip (recognised by its
magic bytes, whatever the file is called), decodes strict UTF-8 JSON and checks that the
top level is an object.  Nothing in the document is ever executed or dereferenced;
structural and semantic checks live in :mod:`kubecodegen.spec.validate`.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import zlib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from .errors import SpecError, make_pointer
from .records import CrdScale, CrdSchema, GroupVersionKind, Origin

#: The spec used when none is given: the newest Kubernetes release shipped as package data.
DEFAULT_SPEC = "builtin:v1.35"

#: Upper bound for a document, compressed or not.  Real specs are 4-6 MB; the cap only
#: stops a runaway download or a gzip bomb from exhausting memory.
MAX_SPEC_BYTES = 256 * 1024 * 1024

#: Deepest nesting of JSON objects and arrays accepted. Real documents reach 35 (CRD schemas
#: nested inline); validation and model building recurse per level, so a bound here turns a
#: hostile document into a clear error instead of a RecursionError deep in a library.
MAX_NESTING = 160

_GZIP_MAGIC = b"\x1f\x8b"
_BUILTIN_PREFIX = "builtin:"
_BUILTIN_FILE = re.compile(r"^v(\d+(?:\.\d+)*)\.json\.gz$")
_READ_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class LoadedSpec:
    """A parsed spec document and where it came from (used as the prefix of every error).

    ``origin`` says what produced it (a hand-made LoadedSpec is a :attr:`Origin.FILE`:
    nothing is known about it); ``crd_file_groups`` are the API groups that ``--crd``
    files published into it.
    """

    source: str
    document: dict[str, Any] = field(repr=False)
    origin: Origin = field(default=Origin.FILE, repr=False)
    crd_file_groups: frozenset[str] = field(default=frozenset(), repr=False)
    #: Kinds served from CRDs (see :attr:`.records.Document.custom_resource_kinds`).
    custom_resource_kinds: frozenset[GroupVersionKind] = field(default=frozenset(), repr=False)
    #: The OpenAPI v3 documents this (converted) document was assembled from; empty for v2.
    openapi_documents: tuple[str, ...] = field(default=(), repr=False)
    #: Scale subresources of its CRDs (see :attr:`.records.Document.crd_scales`).
    crd_scales: tuple[CrdScale, ...] = field(default=(), repr=False)
    #: Validation schemas of its CRDs (see :attr:`.records.Document.crd_schemas`).
    crd_schemas: tuple[CrdSchema, ...] = field(default=(), repr=False)


def available_builtin_versions() -> list[str]:
    """The versions ``builtin:<version>`` accepts, e.g. ``["v1.20", "v1.35"]``, oldest first."""
    found: list[tuple[tuple[int, ...], str]] = []
    for entry in _builtin_dir().iterdir():
        match = _BUILTIN_FILE.match(entry.name)
        if match:
            numbers = tuple(int(part) for part in match.group(1).split("."))
            found.append((numbers, "v" + match.group(1)))
    return [name for _, name in sorted(found)]


def load_spec(
    source: str | None = None, *, timeout: float = 30.0, max_bytes: int = MAX_SPEC_BYTES
) -> LoadedSpec:
    """Load a spec from ``builtin:<version>``, an ``http(s)://`` URL or a file path.

    ``None`` means :data:`DEFAULT_SPEC`.  ``timeout`` applies to each network phase of
    an HTTP fetch; ``max_bytes`` caps both the raw and the decompressed size.  Raises
    :class:`SpecError` naming the source on any failure.
    """
    if source is None:
        source = DEFAULT_SPEC
    if source.startswith(_BUILTIN_PREFIX):
        label, data = _read_builtin(source)
        return load_spec_bytes(data, label, max_bytes=max_bytes, origin=Origin.BUILTIN)
    scheme = urlsplit(source).scheme.lower()
    if scheme in ("http", "https"):
        label = redact_url(source)
        data = _fetch_url(source, label, timeout=timeout, max_bytes=max_bytes)
        return load_spec_bytes(data, label, max_bytes=max_bytes)
    if len(scheme) > 1 and "://" in source:
        # A one-letter "scheme" is a Windows drive letter, not a URL.
        raise SpecError(
            source,
            "",
            f"unsupported URL scheme {scheme!r}: use http://, https://, "
            f"{_BUILTIN_PREFIX}<version> or a file path",
        )
    return load_spec_bytes(_read_file(source, max_bytes=max_bytes), source, max_bytes=max_bytes)


def load_spec_bytes(data: bytes, source: str, *, max_bytes: int = MAX_SPEC_BYTES,
                    origin: Origin = Origin.FILE) -> LoadedSpec:
    """Parse a spec from raw bytes (plain or gzip-compressed JSON), e.g. fetched from a cluster."""
    if len(data) > max_bytes:
        raise SpecError(source, "", f"document is larger than the {_mib(max_bytes)} limit")
    if data.startswith(_GZIP_MAGIC):
        data = _gunzip(data, source, max_bytes)
    return LoadedSpec(source, _parse_json(data, source), origin)


def redact_url(url: str) -> str:
    """Hide credentials a URL may carry (user:password, query values) before it is shown anywhere."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "***@" + netloc.rpartition("@")[2]
    query = parts.query
    if query:
        query = "&".join(item.partition("=")[0] + "=***" for item in query.split("&"))
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def _builtin_dir() -> Any:
    # ``Traversable`` lives in different modules across 3.10-3.12, so it is typed as Any here.
    return resources.files("kubecodegen").joinpath("specs")


def _read_builtin(source: str) -> tuple[str, bytes]:
    requested = source[len(_BUILTIN_PREFIX) :].strip()
    version = requested if requested.startswith("v") else "v" + requested
    available = available_builtin_versions()
    if version not in available:
        listing = ", ".join(_BUILTIN_PREFIX + name for name in available) or "none"
        raise SpecError(
            source, "", f"no built-in spec for version {requested!r}; available: {listing}"
        )
    data: bytes = _builtin_dir().joinpath(f"{version}.json.gz").read_bytes()
    return _BUILTIN_PREFIX + version, data


def _read_file(source: str, *, max_bytes: int) -> bytes:
    path = Path(source).expanduser()
    try:
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise SpecError(source, "", "file not found") from None
    except IsADirectoryError:
        raise SpecError(source, "", "is a directory, expected a JSON file") from None
    except OSError as exc:
        raise SpecError(source, "", f"cannot read file: {exc.strerror or exc}") from None
    if len(data) > max_bytes:
        raise SpecError(source, "", f"file is larger than the {_mib(max_bytes)} limit")
    return data


def _fetch_url(url: str, label: str, *, timeout: float, max_bytes: int) -> bytes:
    """GET the document with TLS verification, following redirects, refusing oversize bodies."""
    headers = {"Accept": "application/json, application/octet-stream;q=0.5, */*;q=0.1"}
    try:
        with (
            httpx.Client(
                follow_redirects=True, timeout=timeout, verify=True, headers=headers
            ) as client,
            client.stream("GET", url) as response,
        ):
            if response.status_code != 200:
                reason = response.reason_phrase or ""
                raise SpecError(
                    label,
                    "",
                    f"HTTP {response.status_code} {reason}".rstrip()
                    + " (expected 200 with a JSON document)",
                )
            declared = response.headers.get("content-length")
            if declared is not None and declared.isdigit() and int(declared) > max_bytes:
                raise SpecError(label, "", f"response is larger than the {_mib(max_bytes)} limit")
            buffer = bytearray()
            for chunk in response.iter_bytes(_READ_CHUNK):
                buffer += chunk
                if len(buffer) > max_bytes:
                    raise SpecError(
                        label, "", f"response is larger than the {_mib(max_bytes)} limit"
                    )
            return bytes(buffer)
    except httpx.TimeoutException:
        raise SpecError(label, "", f"timed out after {timeout:g} s") from None
    except httpx.TooManyRedirects:
        raise SpecError(label, "", "too many redirects") from None
    except httpx.ConnectError as exc:
        raise SpecError(label, "", f"cannot connect: {_describe_network_error(exc)}") from None
    except httpx.DecodingError as exc:
        raise SpecError(label, "", f"cannot decode the response body: {exc}") from None
    except httpx.HTTPError as exc:
        raise SpecError(label, "", f"HTTP request failed: {_describe_network_error(exc)}") from None


def _describe_network_error(exc: Exception) -> str:
    # httpx wraps the socket/TLS error; its text may embed the request URL, so strip that.
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0]


def _gunzip(data: bytes, source: str, max_bytes: int) -> bytes:
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data), mode="rb") as stream:
            out = stream.read(max_bytes + 1)
    except EOFError:
        raise SpecError(source, "", "gzip data is truncated (unexpected end of stream)") from None
    except (OSError, zlib.error) as exc:
        raise SpecError(source, "", f"gzip data is corrupt: {exc}") from None
    if len(out) > max_bytes:
        raise SpecError(
            source, "", f"decompressed document is larger than the {_mib(max_bytes)} limit"
        )
    return out


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _parse_json(data: bytes, source: str) -> dict[str, Any]:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if not data.strip():
        raise SpecError(source, "", "empty document: expected a JSON object")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError(
            source,
            "",
            f"not UTF-8 text (invalid byte at offset {exc.start}): expected a JSON document",
        ) from None
    try:
        document = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise SpecError(
            source,
            "",
            f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
            + _content_hint(text, exc.pos, exc.msg),
        ) from None
    except ValueError as exc:  # NaN / Infinity
        raise SpecError(source, "", f"invalid JSON: {exc}") from None
    except RecursionError:
        raise SpecError(source, "", "invalid JSON: nested too deeply") from None
    if not isinstance(document, dict):
        raise SpecError(
            source,
            "",
            f"expected a JSON object at the top level, got {describe_json_type(document)}",
        )
    _check_nesting(document, source)
    return document


def _check_nesting(document: dict[str, Any], source: str) -> None:
    """Refuse objects and arrays nested deeper than :data:`MAX_NESTING` (walked without recursion)."""
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(document, ())]
    while stack:
        node, path = stack.pop()
        if len(path) >= MAX_NESTING and isinstance(node, (dict, list)):
            raise SpecError(source, make_pointer(path),
                            f"nested more than {MAX_NESTING} levels deep (real specs nest "
                            "less than 40); flatten the schema or use $ref")
        if isinstance(node, dict):
            stack.extend((value, (*path, key)) for key, value in node.items())
        elif isinstance(node, list):
            stack.extend((value, (*path, index)) for index, value in enumerate(node))


def _content_hint(text: str, position: int, message: str) -> str:
    """Say what the bytes look like when they are clearly not a truncated JSON file."""
    head = text.lstrip()[:200].lower()
    if position >= len(text.rstrip()) or message.startswith("Unterminated string"):
        return " (the document is truncated)"
    if head.startswith(("<!doctype html", "<html", "<?xml", "<")):
        return " (this looks like an HTML/XML page, e.g. an error page, not a JSON document)"
    if head.startswith(("swagger:", "openapi:", "---", "apiversion:", "%yaml")):
        return " (this looks like YAML; only JSON documents are supported)"
    return ""


def describe_json_type(value: object) -> str:
    """Name a JSON value's type with an article, for messages like "got an array"."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):g} MiB"

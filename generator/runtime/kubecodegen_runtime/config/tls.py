"""Build the ``ssl.SSLContext`` a ClientConfig carries.

Why an SSLContext and not httpx's ``verify=``/``cert=`` arguments: the kubeconfig gives CA
and client certificates either as files or as inline base64 data, and both must end up in
one context that the sync and async transports share.

Security rules implemented here:

* verification is on by default; a cluster CA *replaces* the system trust store (as in
  client-go), and without one the system store is used;
* CA data is loaded in memory (``cadata=``), never written to disk;
* the ssl module can only read client certificates/keys from files, so inline key material
  is written to a fresh private directory (0700) as 0600 files and removed in a
  ``finally`` right after ``load_cert_chain`` returns;
* ``insecure-skip-tls-verify`` turns verification off and logs a warning every time such a
  context is built.

``tls-server-name`` is not part of the context: the name to send as SNI and to verify the
certificate against is per connection. The transport passes
``ClientConfig.tls_server_name`` as the httpx request extension ``sni_hostname`` on every
request (``client.send(request)`` with ``extensions={"sni_hostname": name}``); httpcore
then uses it as ``server_hostname`` for the TLS handshake, so certificate hostname checks
use it instead of the URL host. (httpcore ignores it when tunnelling through an HTTP
proxy.)
"""

from __future__ import annotations

import contextlib
import logging
import os
import ssl
import tempfile
from dataclasses import dataclass, field

from .errors import ConfigError
from .files import MAX_CREDENTIAL_FILE_BYTES, FileTooLarge, describe_read_error, read_bounded
from .text import terminal_safe

logger = logging.getLogger(__name__)

_PEM_CERTIFICATE = "-----BEGIN CERTIFICATE-----"
_PEM_KEY_SUFFIX = "PRIVATE KEY-----"


@dataclass(frozen=True)
class PemInput:
    """PEM material given either inline (``data``) or as a file (``path``).

    ``origin_file``/``origin_field`` say where in the kubeconfig it was configured, so a
    broken certificate is reported against the field the user has to fix.
    """

    data: bytes | None = field(default=None, repr=False)
    path: str | None = None
    origin_file: str | None = None
    origin_field: str | None = None

    def error(self, message: str) -> ConfigError:
        """A ConfigError located at the field this material came from."""
        return ConfigError(message, file=self.origin_file, field=self.origin_field)

    def read(self, what: str) -> bytes:
        """Return the PEM bytes, reading ``path`` if the material was given as a file."""
        if self.data is not None:
            return self.data
        if self.path is None:
            raise self.error(f"no {what} given")
        try:
            return read_bounded(self.path, MAX_CREDENTIAL_FILE_BYTES)
        except (OSError, FileTooLarge) as exc:
            raise self.error(
                f"cannot read {what} file {self.path}: {describe_read_error(exc)}"
            ) from None


def create_ssl_context(
    *,
    ca: PemInput | None = None,
    client_cert: PemInput | None = None,
    client_key: PemInput | None = None,
    insecure: bool = False,
    server: str | None = None,
) -> ssl.SSLContext:
    """Return a client SSLContext for one cluster/user pair.

    ``server`` is only used to say which cluster an insecure context is for.
    """
    if insecure:
        if ca is not None:
            raise ca.error(
                "a certificate authority cannot be combined with insecure-skip-tls-verify: true"
            )
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        logger.warning(
            "TLS certificate verification is disabled for %s (insecure-skip-tls-verify); "
            "the connection can be intercepted",
            terminal_safe(server) if server else "the API server",
        )
    elif ca is None:
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    else:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        load_ca(context, ca)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if client_cert is not None or client_key is not None:
        if client_cert is None or client_key is None:
            present = client_cert or client_key
            assert present is not None
            missing = "client key" if client_key is None else "client certificate"
            raise present.error(
                f"a client certificate needs both certificate and key; the {missing} is missing"
            )
        load_client_certificate(context, client_cert, client_key)
    return context


def load_ca(context: ssl.SSLContext, ca: PemInput) -> None:
    """Trust the PEM certificate(s) in ``ca`` (loaded from memory, never a temp file)."""
    pem = _as_text(ca.read("certificate-authority"), ca, "certificate-authority")
    if _PEM_CERTIFICATE not in pem:
        raise ca.error("certificate authority does not contain a PEM certificate")
    try:
        context.load_verify_locations(cadata=pem)
    except ssl.SSLError as exc:
        raise ca.error(f"certificate authority cannot be loaded: {_ssl_reason(exc)}") from None


def load_client_certificate(context: ssl.SSLContext, cert: PemInput, key: PemInput) -> None:
    """Load a client certificate and key into ``context``.

    Files are handed to the ssl module as they are. Inline data has to go through the
    filesystem (``load_cert_chain`` accepts nothing else); it lives in a private temp
    directory only for the duration of the call.
    """
    if cert.data is None and key.data is None:
        assert cert.path is not None and key.path is not None
        # Both are read (bounded) first, so a huge or endless file is our error, not
        # OpenSSL reading it to the end.
        _check_pem(cert.read("client-certificate"), cert, key, key.read("client-key"))
        _load_chain(context, cert.path, key.path, cert)
        return
    cert_pem = cert.read("client-certificate")
    key_pem = key.read("client-key")
    _check_pem(cert_pem, cert, key, key_pem)
    directory = tempfile.mkdtemp(prefix="kube-client-cert-")
    cert_path = os.path.join(directory, "client.crt")
    key_path = os.path.join(directory, "client.key")
    try:
        _write_private(cert_path, cert_pem)
        _write_private(key_path, key_pem)
        _load_chain(context, cert_path, key_path, cert)
    finally:
        for path in (key_path, cert_path):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
        os.rmdir(directory)


def _check_pem(
    cert_pem: bytes, cert: PemInput, key: PemInput, key_pem: bytes | None = None
) -> None:
    if _PEM_CERTIFICATE not in _as_text(cert_pem, cert, "client certificate"):
        raise cert.error("client certificate does not contain a PEM certificate")
    if key_pem is not None and _PEM_KEY_SUFFIX not in _as_text(key_pem, key, "client key"):
        raise key.error("client key does not contain a PEM private key")


def _load_chain(context: ssl.SSLContext, cert_path: str, key_path: str, cert: PemInput) -> None:
    try:
        # A password callback that refuses: without it OpenSSL would prompt on the TTY
        # for the passphrase of an encrypted key, hanging non-interactive programs.
        context.load_cert_chain(cert_path, key_path, password=_refuse_password)
    except _EncryptedKeyError:
        raise cert.error(
            "the client key is encrypted with a passphrase, which is not supported"
        ) from None
    except ssl.SSLError as exc:
        raise cert.error(f"client certificate/key cannot be loaded: {_ssl_reason(exc)}") from None
    except OSError as exc:
        raise cert.error(f"client certificate/key cannot be read: {exc.strerror}") from None


class _EncryptedKeyError(Exception):
    pass


def _refuse_password() -> str:
    raise _EncryptedKeyError


def _write_private(path: str, data: bytes) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)


def _as_text(data: bytes, source: PemInput, what: str) -> str:
    try:
        return data.decode("ascii")
    except UnicodeDecodeError:
        raise source.error(f"{what} is not PEM text (it contains non-ASCII bytes)") from None


def _ssl_reason(exc: ssl.SSLError) -> str:
    """OpenSSL's short reason (e.g. KEY_VALUES_MISMATCH); it never contains key bytes."""
    return str(exc.reason or exc.strerror or exc.__class__.__name__)

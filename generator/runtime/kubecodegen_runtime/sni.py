"""TLS server name override for connections whose handshake we do not control.

kubeconfig ``tls-server-name`` names the certificate the API server presents when it is
reached under another name (an IP, a load balancer). Direct connections pass it to
httpcore as the ``sni_hostname`` request extension; a CONNECT tunnel through a proxy
ignores that extension and handshakes with the URL's host, so the transport gives the
tunnel a :class:`ServerNameContext` instead.
"""

from __future__ import annotations

import ssl
from typing import Any


class ServerNameContext(ssl.SSLContext):
    """An SSL context that always handshakes as ``server_name`` (kubeconfig
    ``tls-server-name``), whatever host name the connection code passes.

    Needed through a proxy: httpcore sends the ``sni_hostname`` request extension on
    direct connections, but a CONNECT tunnel handshakes with the URL's host. This
    context delegates every handshake to the configured context (its CA, client
    certificate and verification settings) with the name replaced, so SNI and the
    certificate check both use ``tls-server-name`` as client-go does.
    """

    def __new__(cls, inner: ssl.SSLContext, server_name: str) -> ServerNameContext:
        context: ServerNameContext = super().__new__(cls, ssl.PROTOCOL_TLS_CLIENT)
        return context

    def __init__(self, inner: ssl.SSLContext, server_name: str) -> None:
        self.inner = inner
        self.server_name = server_name

    def set_alpn_protocols(self, alpn_protocols: Any) -> None:
        self.inner.set_alpn_protocols(alpn_protocols)

    def wrap_socket(self, sock: Any, server_side: bool = False,
                    do_handshake_on_connect: bool = True, suppress_ragged_eofs: bool = True,
                    server_hostname: Any = None, session: Any = None) -> Any:
        return self.inner.wrap_socket(
            sock, server_side=server_side, do_handshake_on_connect=do_handshake_on_connect,
            suppress_ragged_eofs=suppress_ragged_eofs, server_hostname=self.server_name,
            session=session,
        )

    def wrap_bio(self, incoming: Any, outgoing: Any, server_side: bool = False,
                 server_hostname: Any = None, session: Any = None) -> Any:
        return self.inner.wrap_bio(incoming, outgoing, server_side=server_side,
                                   server_hostname=self.server_name, session=session)

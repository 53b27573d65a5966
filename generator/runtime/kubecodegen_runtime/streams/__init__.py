"""Pod streams: the exec/attach channel protocol, pure.

:mod:`.channels` is the ``channel.k8s.io`` framing and the exit-code rules,
:mod:`.exec` the state of one exec/attach session. The sessions that drive them over a
WebSocket, ``ExecSession`` / ``AsyncExecSession``, are in :mod:`kubecodegen_runtime.client`
(they are shells over a client, written once and made blocking by ``scripts/unasync.py``).
"""

from .channels import PROTOCOLS, ExecError, ExecResult, StreamInterrupted

__all__ = ["PROTOCOLS", "ExecError", "ExecResult", "StreamInterrupted"]

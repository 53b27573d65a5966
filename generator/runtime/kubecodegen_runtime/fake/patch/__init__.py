"""The three patch engines of the fake API server: JSON patch, JSON merge patch, strategic merge.

Each is a pure function over decoded JSON values (``dict``/``list``/``str``/``int``/
``float``/``bool``/``None``): it never mutates its inputs, and its result shares every
subtree the patch did not touch with them (copy on write), so a patch costs what it
changes, not the size of the document. Callers that mutate a result in place must copy
it first.

The rules are not the RFCs' alone but those of the libraries kube-apiserver runs, because
the fake must answer what the real server answers:

* JSON patch (RFC 6902) as ``github.com/evanphx/json-patch`` v4 applies it, quirks
  included: ``replace`` of a missing object member adds it, ``test`` of a missing member
  against ``null`` succeeds, negative array indices count from the end, a pointer without
  a leading ``/`` is read from its second token, an operation without ``value`` uses
  ``null``. Kubernetes before 1.23 (library v4.9, v4.11) refuses the whole-document pointer
  ``""``, and a negative index where it reads (``replace``, ``test``, a parent) makes
  its handler panic and drop the connection, which the fake answers with the 422;
  later versions (v4.12) accept both.
* JSON merge patch (RFC 7386) as the same library applies it: ``null`` deletes, a value
  the document lacks is taken with its ``null`` members pruned (and, before 1.22, its
  ``null`` array items).
  A patch that is not an object is refused as the server refuses it (it only patches
  objects).
* Strategic merge patch as ``k8s.io/apimachinery/pkg/util/strategicpatch`` applies it on
  the server, with the merge metadata of the package's OpenAPI tables
  (:class:`~kubecodegen_runtime.fake.schema.PackageApi`).

Errors are :class:`PatchError` values carrying the HTTP status, the Status reason and
message the real server sends (a ``reason`` of ``""`` is a Status without a reason: the
500 answer kube-apiserver gives for a plain Go error).
"""

from ._common import PatchError
from .rfc6902 import MAX_JSON_PATCH_OPERATIONS, json_patch
from .rfc7386 import merge_patch
from .strategic import strategic_merge_patch

__all__ = ["MAX_JSON_PATCH_OPERATIONS", "PatchError", "json_patch", "merge_patch", "strategic_merge_patch"]

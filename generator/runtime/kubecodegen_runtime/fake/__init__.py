"""A fake API server in memory, for testing code written on the generated clients.

``<package>.fake.Clientset(*objects)`` is the package's real ``Clientset`` over a
:class:`~..client.RESTClient` whose transport is a :class:`FakeServer`: requests are
built, encoded, decoded and failed exactly as against a real kube-apiserver, and the
fake answers them with the JSON bodies and ``Status`` errors a real server sends.
Informers, listers, the dynamic client and discovery work on it unchanged.

The layers: :mod:`.server` (sans-IO: ``Request`` -> :class:`~.actions.Action` ->
reactors -> :mod:`.tracker` -> ``Response``), :mod:`.transport` (thin sync and async
shells with the real transports' duck type), :mod:`.tracker` (the store and every
write semantic), :mod:`.quirks` (the per-resource facts no spec states).
"""

from .actions import Action, Reactor, WatchReactor
from .clientset import FakeClientsetMixin
from .schema import Field, PackageApi, ScalePaths
from .server import FakeServer
from .tracker import ObjectTracker

__all__ = [
    "Action",
    "FakeClientsetMixin",
    "FakeServer",
    "Field",
    "ObjectTracker",
    "PackageApi",
    "Reactor",
    "ScalePaths",
    "WatchReactor",
]

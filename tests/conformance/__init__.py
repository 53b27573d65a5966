"""The conformance suite: one list of scenarios, run unchanged on the real kube-apiserver 1.20
(``[kube]``) and on the fake clientset (``[fake]``), proving the fake faithful (issue 12).

* ``scenarios/``: plain functions of a :class:`~.backends.Backend`, by topic, registered in
  :data:`scenarios.SCENARIOS` with an id each; ``coverage.py`` maps the issue's points to ids.
* ``backends.py``: ``real_backend(cluster)`` and ``fake_backend()``, usable without pytest.
* ``crds/``: the suite's own CRD (``Widget``), generated into a package once per process.
* ``test_conformance.py``: scenario × backend; only ``[kube]`` is marked ``cluster``.
* ``benchmarks/fake_conformance.py`` times the same list on both backends.

What the scenarios assert is what a client observes alike on both: objects' fields, error classes
and Status reasons, causes' fields, event sequences and the order of resourceVersions. They
encode kube-apiserver 1.20's measured behaviour, quirks included (each says so where it is one).
"""

"""pytest fixtures for envtest, registered for everyone who installs kubecodegen-runtime.

Fixtures (nothing starts, and nothing beyond pytest is imported, until a test asks for one):

    envtest              the session's `Environment`, started on first use, closed at the end.
    envtest_config       its admin `ClientConfig` (client certificate, ``system:masters``).
    envtest_namespace    a fresh namespace named after the test, deleted after it.

CRDs to install at start come from the ini option ``envtest_crds`` (paths relative to the ini
file, one a line) and the command-line option ``--envtest-crds PATH`` (repeatable, relative to
the current folder): files, multi-document YAML or folders. Binaries are found as
`find_binaries` says; a missing or misconfigured binary fails the tests that use the fixtures,
with the places searched. The names start with ``envtest`` so that they never collide with a
project's own cluster fixtures.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from ..config.types import ClientConfig
    from .environment import Environment


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "envtest_crds",
        "CRD files or folders the envtest fixture installs (one a line)",
        type="paths",
        default=[],
    )
    group = parser.getgroup("envtest", "kubecodegen envtest (real kube-apiserver for tests)")
    group.addoption(
        "--envtest-crds",
        action="append",
        default=[],
        metavar="PATH",
        help="a CRD file or folder for the envtest fixture to install (repeatable)",
    )


def crd_paths(config: pytest.Config) -> list[Path]:
    """The ini option's paths, then the command line's (resolved against the invocation folder)."""
    from_ini = [Path(path) for path in config.getini("envtest_crds")]
    here = config.invocation_params.dir
    from_cli = [here / path for path in config.getoption("envtest_crds") or []]
    return from_ini + from_cli


@pytest.fixture(scope="session")
def envtest(request: pytest.FixtureRequest) -> Iterator[Environment]:
    """The session's envtest `Environment` (etcd + kube-apiserver), with the configured CRDs."""
    from . import (
        BinariesMisconfiguredError,
        BinaryNotFoundError,
        CRDFileError,
        Environment,
    )

    try:
        environment = Environment(crds=crd_paths(request.config))
    except (BinaryNotFoundError, BinariesMisconfiguredError, CRDFileError) as exc:
        pytest.fail(f"envtest cannot start: {exc}", pytrace=False)
    with environment:
        yield environment


@pytest.fixture(scope="session")
def envtest_config(envtest: Environment) -> ClientConfig:
    """The admin's ClientConfig for the session's environment."""
    return envtest.config


@pytest.fixture
def envtest_namespace(envtest: Environment, request: pytest.FixtureRequest) -> Iterator[str]:
    """A namespace of the test's own (with its ``default`` service account), deleted after."""
    from .environment import unique_name

    name = envtest.create_namespace(unique_name(request.node.name, max_length=50))
    try:
        yield name
    finally:
        envtest.delete_namespace(name)

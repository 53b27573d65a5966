"""CustomResourceDefinitions for an environment: read from files, installed, awaited.

`load_crds` (pure, unit-tested) turns paths and dictionaries into `CRD` values: a file may hold
several YAML (or JSON) documents, a folder is read file by file (``*.yaml``, ``*.yml``,
``*.json``, sorted, not recursive, as controller-runtime's envtest reads ``CRDDirectoryPaths``).
YAML is read the way kubectl reads it (`..yamljson`). Documents of other kinds are skipped, as
controller-runtime does (a kustomization or a sample next to the CRDs is common); everything else
that is wrong -- a missing path, a syntax error, a document that is not an object, a
CustomResourceDefinition of another apiVersion or without name, group, names.plural or versions, a
path with no CRD at all -- raises `CRDFileError` naming the file and the document (1-based).

`install_crds` creates each CRD (updating one that exists), then waits until every one is
``Established``, each served version's plural is listed by discovery and a list of it succeeds
(the handler can lag discovery by a moment): only then does a client's first request find it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeAlias

import httpx

from ..yamljson import YAMLError, load_all
from .api import check

CRD_API_VERSION = "apiextensions.k8s.io/v1"
CRD_PATH = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
SUFFIXES = (".yaml", ".yml", ".json")

#: A CRD source: a file, a folder of files, or one CRD as a dictionary.
CRDSource: TypeAlias = "str | os.PathLike[str] | Mapping[str, Any]"


class CRDFileError(ValueError):
    """A CRD source cannot be used; the message names the file and document."""


class CRDInstallError(RuntimeError):
    """The server refused a CRD, or did not establish and serve it in time."""


@dataclass(frozen=True)
class CRD:
    """One CustomResourceDefinition and where it came from (for error messages)."""

    origin: str
    body: Mapping[str, Any] = field(repr=False)

    @property
    def name(self) -> str:
        return str(self.body["metadata"]["name"])

    @property
    def group(self) -> str:
        return str(self.body["spec"]["group"])

    @property
    def plural(self) -> str:
        return str(self.body["spec"]["names"]["plural"])

    @property
    def served_versions(self) -> tuple[str, ...]:
        return tuple(
            str(version["name"])
            for version in self.body["spec"]["versions"]
            if version.get("served", True)
        )

    def __repr__(self) -> str:
        return f"CRD({self.name!r}, from {self.origin})"


def _problem(document: Mapping[str, Any]) -> str | None:
    """Why a CustomResourceDefinition document cannot be installed, or ``None``."""
    if document.get("apiVersion") != CRD_API_VERSION:
        return f"apiVersion is {document.get('apiVersion')!r}, expected {CRD_API_VERSION!r}"
    metadata = document.get("metadata")
    if not isinstance(metadata, dict) or not isinstance(metadata.get("name"), str):
        return "metadata.name is missing"
    spec = document.get("spec")
    if not isinstance(spec, dict):
        return "spec is missing"
    if not isinstance(spec.get("group"), str) or not spec["group"]:
        return "spec.group is missing"
    names = spec.get("names")
    if not isinstance(names, dict) or not isinstance(names.get("plural"), str):
        return "spec.names.plural is missing"
    versions = spec.get("versions")
    if (
        not isinstance(versions, list)
        or not versions
        or not all(isinstance(v, dict) and isinstance(v.get("name"), str) for v in versions)
    ):
        return "spec.versions must be a non-empty list of versions with names"
    return None


def _from_documents(documents: Iterable[Any], origin: str) -> list[CRD]:
    crds = []
    for number, document in enumerate(documents, start=1):
        where = f"{origin}, document {number}"
        if document is None:  # an empty document (a trailing ---)
            continue
        if not isinstance(document, dict):
            raise CRDFileError(f"{where}: not an object but {type(document).__name__}")
        if document.get("kind") != "CustomResourceDefinition":
            continue
        problem = _problem(document)
        if problem is not None:
            raise CRDFileError(f"{where}: {problem}")
        crds.append(CRD(where, document))
    return crds


def _read_file(path: Path) -> list[CRD]:
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise CRDFileError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        documents = load_all(text)
    except YAMLError as exc:
        raise CRDFileError(f"{path}: {exc}") from None
    return _from_documents(documents, str(path))


def _read_path(source: Path) -> list[CRD]:
    if source.is_dir():
        files = sorted(p for p in source.iterdir() if p.suffix in SUFFIXES and p.is_file())
        crds = [crd for file in files for crd in _read_file(file)]
        what = f"{source} (a folder; read {', '.join(p.name for p in files) or 'no *.yaml/*.yml/*.json file'})"
    elif source.exists():
        crds = _read_file(source)
        what = str(source)
    else:
        raise CRDFileError(f"{source}: no such file or folder")
    if not crds:
        raise CRDFileError(f"{what}: no CustomResourceDefinition found")
    return crds


def load_crds(sources: Iterable[CRDSource]) -> list[CRD]:
    """Every CRD of ``sources`` (paths and dictionaries), checked, in order; duplicates (the same
    name twice) are an error naming both places."""
    crds: list[CRD] = []
    for index, source in enumerate(sources):
        if isinstance(source, Mapping):
            origin = f"CRD dictionary #{index + 1}"
            if source.get("kind") != "CustomResourceDefinition":
                raise CRDFileError(f"{origin}: kind is {source.get('kind')!r}, expected 'CustomResourceDefinition'")
            problem = _problem(source)
            if problem is not None:
                raise CRDFileError(f"{origin}: {problem}")
            crds.append(CRD(origin, dict(source)))
        else:
            crds.extend(_read_path(Path(os.fspath(source)).expanduser()))
    seen: dict[str, str] = {}
    for crd in crds:
        if crd.name in seen:
            raise CRDFileError(f"{crd.origin}: CRD {crd.name!r} also defined in {seen[crd.name]}")
        seen[crd.name] = crd.origin
    return crds


def _apply(client: httpx.Client, crd: CRD) -> None:
    """Create the CRD, or replace the existing one of that name (a restart, a rerun)."""
    response = client.post(CRD_PATH, json=crd.body)
    if response.status_code == 409:
        current = check(client.get(f"{CRD_PATH}/{crd.name}"), f"reading CRD {crd.name!r}")
        body = dict(crd.body)
        body["metadata"] = {
            **body["metadata"],
            "resourceVersion": current["metadata"]["resourceVersion"],
        }
        response = client.put(f"{CRD_PATH}/{crd.name}", json=body)
    if not response.is_success:
        raise CRDInstallError(
            f"{crd.origin}: the server refused CRD {crd.name!r}: "
            f"HTTP {response.status_code}: {response.text[:500]}"
        )


def _established(client: httpx.Client, crd: CRD) -> str | None:
    """``None`` when ready, else what is still missing (for the timeout message)."""
    answer = client.get(f"{CRD_PATH}/{crd.name}")
    if not answer.is_success:
        return f"GET returned HTTP {answer.status_code}"
    conditions = answer.json().get("status", {}).get("conditions") or []
    if not any(c.get("type") == "Established" and c.get("status") == "True" for c in conditions):
        return "not Established yet"
    for version in crd.served_versions:
        discovery = client.get(f"/apis/{crd.group}/{version}")
        if not discovery.is_success:
            return f"/apis/{crd.group}/{version} answers HTTP {discovery.status_code}"
        names = {resource.get("name") for resource in discovery.json().get("resources", [])}
        if crd.plural not in names:
            return f"{crd.plural} not in discovery of {crd.group}/{version} yet"
        # Discovery can list the resource a moment before its handler serves requests.
        listed = client.get(f"/apis/{crd.group}/{version}/{crd.plural}", params={"limit": "1"})
        if not listed.is_success:
            return f"listing {crd.plural} in {crd.group}/{version} answers HTTP {listed.status_code}"
    return None


def install_crds(client: httpx.Client, crds: Sequence[CRD], timeout: float = 30.0) -> None:
    """Create (or update) ``crds`` and wait until all are established and discoverable."""
    for crd in crds:
        _apply(client, crd)
    deadline = time.monotonic() + timeout
    pending = list(crds)
    while pending:
        waiting = [(crd, _established(client, crd)) for crd in pending]
        pending = [crd for crd, missing in waiting if missing is not None]
        if not pending:
            return
        if time.monotonic() > deadline:
            details = "; ".join(f"{crd.name}: {missing}" for crd, missing in waiting if missing)
            raise CRDInstallError(f"CRDs not served within {timeout:.0f}s: {details}")
        time.sleep(0.1)

"""The generation pipeline: source → validated document → records → fixups → model → files → disk.

The CLI is a thin shell over these functions; tests and scripts call them directly.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from . import naming
from .model import ApiModel
from .pipeline import model_of
from .render.meta_runtime import (
    RUNTIME_APPLY_PATH,
    RUNTIME_PATH,
    MetaPlan,
    plan_meta,
    runtime_meta_model,
)
from .render.plan import plan_package, plan_runtime_apply_meta, plan_runtime_meta
from .render.runtime_link import runtime_link
from .render.write import render, stale_files, write_atomically
from .spec import LoadedSpec, validate_spec
from .spec.cluster import load_spec_from_cluster
from .spec.crd_files import read_crd_paths
from .spec.crd_publish import crd_groups, merge_crds
from .spec.openapi_v3 import load_any_spec

_PACKAGE = re.compile(r"^[a-z_][a-z0-9_]*$")


class UsageError(ValueError):
    """A bad argument (not a bad spec): names the argument and what was expected."""


@dataclass(frozen=True)
class Generated:
    package: str
    files: dict[str, bytes]
    model: ApiModel
    notes: tuple[str, ...] = ()
    vendor_runtime: bool = False
    #: Which meta/v1 definitions are the runtime's, and what the input has beyond them.
    meta: MetaPlan | None = None

    @property
    def runtime_requirement(self) -> str | None:
        """The dependency line the package needs, or ``None`` when it vendors the runtime."""
        return None if self.vendor_runtime else runtime_link(False).requirement


@dataclass(frozen=True)
class SpecSource:
    """Where the spec comes from: ``spec`` (file/URL/builtin) or a cluster via kubeconfig."""

    spec: str | None = None
    from_cluster: bool = False
    kubeconfig: str | None = None
    context: str | None = None
    #: ``--crd`` files or folders, published into the spec (the default spec when none is
    #: given, keeping only the CRDs' groups unless ``--group`` says otherwise).
    crds: tuple[str, ...] = ()
    #: ``--openapi auto|v2|v3``: the documents ``--from-cluster`` reads (see ``spec.cluster``).
    openapi: str = "auto"


def load_model(source: str | SpecSource | None,
               groups: Collection[str] | None = None) -> tuple[LoadedSpec, ApiModel]:
    """Load, validate and model a spec; raises SpecError / ModelError / FixupError."""
    spec, model, _ = load_model_with_notes(source, groups)
    return spec, model


def load_model_with_notes(source: str | SpecSource | None, groups: Collection[str] | None = None
                          ) -> tuple[LoadedSpec, ApiModel, tuple[str, ...]]:
    """:func:`load_model`, plus the notes of ``--crd`` reading (documents skipped)."""
    if not isinstance(source, SpecSource):
        source = SpecSource(spec=source)
    notes: tuple[str, ...] = ()
    if source.from_cluster:
        if source.spec is not None:
            raise UsageError("--spec and --from-cluster are alternatives; give one")
        if source.crds:
            raise UsageError("--crd and --from-cluster are alternatives; install the CRDs or give --spec")
        spec = load_spec_from_cluster(source.kubeconfig, source.context, openapi=source.openapi)
    else:
        if source.openapi != "auto":
            raise UsageError("--openapi chooses what --from-cluster reads; --spec reads what it is given")
        spec = load_any_spec(source.spec)
    if source.crds:
        files = read_crd_paths(source.crds)
        notes = files.notes
        spec = merge_crds(spec, files)
        if source.spec is None and not groups:
            groups = crd_groups(files)
    if spec.openapi_documents:
        notes = (*notes, f"read OpenAPI v3, {len(spec.openapi_documents)} document(s): "
                 + ", ".join(spec.openapi_documents))
    elif source.from_cluster:
        notes = (*notes, f"read OpenAPI v2: {spec.source}")
    validate_spec(spec)
    return spec, model_of(spec, groups or None), notes


def check_package_name(package: str) -> None:
    """A name ``import`` accepts: lowercase identifier, no keyword, no dependency's name."""
    if (not _PACKAGE.fullmatch(package) or not naming.is_safe_identifier(package)
            or package in {"kubecodegen", "kubecodegen_runtime", "msgspec", "httpx", "yaml"}):
        raise UsageError(
            f"--package {package!r}: expected a lowercase Python package name "
            "(letters, digits, underscores; not a Python keyword or a dependency's name)"
        )


def source_title(spec: LoadedSpec, model: ApiModel) -> str:
    """How generated headers name the spec: ``Kubernetes v1.35.0``; never a URL's credentials."""
    title = " ".join(part for part in (model.title, model.spec_version) if part) or "an OpenAPI v2 document"
    return re.sub(r"[^\x20-\x7e]", "?", title)[:120]


def generate(source: str | SpecSource | None, package: str,
             groups: Collection[str] | None = None, *, vendor_runtime: bool = False) -> Generated:
    """Render a package; ``vendor_runtime`` copies the runtime in instead of importing it."""
    check_package_name(package)
    spec, model, notes = load_model_with_notes(source, groups)
    meta = plan_meta(model)
    files = render(plan_package(model, package, source_title(spec, model), vendor_runtime, meta))
    return Generated(package, files, model, notes, vendor_runtime, meta)


def generate_runtime_meta() -> dict[str, bytes]:
    """The runtime's generated modules, meta/v1's models and apply configurations
    (``{"apis/meta_v1.py": source, "applyconfigurations/meta_v1.py": source}``, relative to
    the runtime package), rendered from the newest bundled spec (see :mod:`.render.meta_runtime`)."""
    model, title = runtime_meta_model()
    files = render([plan_runtime_meta(model, title), plan_runtime_apply_meta(model, title)], workers=1)
    assert set(files) == {RUNTIME_PATH, RUNTIME_APPLY_PATH}
    return files


def write(generated: Generated, out: Path) -> Path:
    """Write the package under ``out``; an unusable ``out`` is a :class:`UsageError`."""
    target = out / generated.package
    try:
        write_atomically(generated.files, target)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        where = f" ({exc.filename})" if exc.filename else ""
        raise UsageError(f"--out {str(out)!r}: cannot write the package: {reason}{where}") from None
    return target


def check(generated: Generated, out: Path) -> list[str]:
    return stale_files(generated.files, out / generated.package)

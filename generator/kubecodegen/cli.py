"""The ``kubecodegen`` command: argument parsing, messages and exit codes; no logic.

Exit codes: 0 success; 1 ``--check`` found stale files; 2 bad input (spec, argument,
kubeconfig) — in which case nothing was written.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from kubecodegen_runtime.config import ConfigError
from kubecodegen_runtime.errors import KubernetesError

from . import __version__
from .cluster_aliases import cluster_aliases
from .fixups import FixupError
from .generate import SpecSource, UsageError, check, generate, load_model_with_notes, write
from .inspect import format_table, resource_rows
from .model.definitions import ModelError
from .model.types import ApiModel
from .render.meta_runtime import MetaPlan
from .render.plan import unrendered_subresources
from .spec import DEFAULT_SPEC, SpecError
from .spec.errors import printable as _printable

_INPUT_ERRORS = (SpecError, ModelError, FixupError, UsageError)

spec_option = click.option(
    "--spec", "spec", default=None, metavar="SOURCE",
    help=f"File (.json/.json.gz; Swagger 2.0 or OpenAPI 3.0), a folder of OpenAPI 3.0 "
         f"documents, http(s) URL, or builtin:<version>. Default: {DEFAULT_SPEC}.")


def _fail(exc: Exception | str) -> None:
    """Exit 2 with the message; text from the spec or the arguments in it is shown with
    control characters escaped, so it cannot forge terminal output. (A SpecError escapes
    its own parts and may span several lines, one per problem.)"""
    text = str(exc) if isinstance(exc, SpecError) else _printable(str(exc))
    click.echo(f"error: {text}", err=True)
    sys.exit(2)


_TOO_DEEP = ("the spec is nested too deeply to process (a schema or a reference chain "
             "hundreds of levels deep)")


@click.group()
@click.version_option(__version__, prog_name="kubecodegen")
def main() -> None:
    """Generate typed Python Kubernetes clients from OpenAPI v2 or v3 documents."""


def cluster_options(func: Any) -> Any:
    func = click.option("--context", default=None, help="kubeconfig context (with --from-cluster).")(func)
    func = click.option("--kubeconfig", default=None, type=click.Path(dir_okay=False),
                        help="kubeconfig file (with --from-cluster); default: $KUBECONFIG, ~/.kube/config, in-cluster.")(func)
    func = click.option("--openapi", type=click.Choice(["auto", "v2", "v3"]), default="auto",
                        show_default=True,
                        help="With --from-cluster: read /openapi/v3 (per group-version), "
                             "/openapi/v2, or v3 where served and v2 elsewhere.")(func)
    func = click.option("--from-cluster", is_flag=True,
                        help="Fetch the OpenAPI documents of the cluster of the current kubeconfig context.")(func)
    return func


def crd_option(func: Any) -> Any:
    return click.option("--crd", "crds", multiple=True, metavar="PATH",
                        help="CRD YAML/JSON file or folder of them, published into the spec "
                             "(repeatable). Without --spec: the default spec's meta types and "
                             "only the CRDs' groups.")(func)


def _notes(notes: tuple[str, ...]) -> None:
    for note in notes:
        click.echo(f"note: {_printable(note)}", err=True)


def group_option(func: Any) -> Any:
    return click.option("--group", "groups", multiple=True, metavar="GROUP",
                        help="Only this API group (repeatable; 'core' for the legacy group).")(func)


@main.command("generate")
@spec_option
@crd_option
@cluster_options
@group_option
@click.option("--package", required=True, help="Name of the Python package to write.")
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="Folder that will contain the package folder.")
@click.option("--check", "check_only", is_flag=True,
              help="Write nothing; exit 1 and list the files that would change.")
@click.option("--vendor-runtime", is_flag=True,
              help="Copy the runtime into <package>/_runtime instead of importing kubecodegen-runtime.")
def generate_command(spec: str | None, crds: tuple[str, ...], from_cluster: bool,
                     kubeconfig: str | None, context: str | None, openapi: str, groups: tuple[str, ...],
                     package: str, out: Path, check_only: bool, vendor_runtime: bool) -> None:
    """Generate (or --check) a typed client package."""
    try:
        generated = generate(SpecSource(spec, from_cluster, kubeconfig, context, crds, openapi), package, groups,
                             vendor_runtime=vendor_runtime)
    except _INPUT_ERRORS as exc:
        _fail(exc)
        return
    except RecursionError:
        _fail(_TOO_DEEP)
        return
    _notes(generated.notes)
    _warn_skipped_fields(generated.model)
    _warn_unrendered_subresources(generated.model)
    _warn_meta_differences(generated.meta)
    if check_only:
        stale = check(generated, out)
        if stale:
            click.echo(f"{out / package} is out of date; {len(stale)} file(s) would change:", err=True)
            for path in stale:
                click.echo(f"  {path}", err=True)
            sys.exit(1)
        click.echo(f"{out / package} is up to date ({len(generated.files)} files)")
        return
    try:
        target = write(generated, out)
    except UsageError as exc:
        _fail(exc)
        return
    click.echo(f"wrote {len(generated.files)} files to {target}")
    if generated.runtime_requirement is None:
        click.echo("the runtime is vendored: the package needs only httpx, msgspec and PyYAML")
    else:
        click.echo(f"add to your project's dependencies: {generated.runtime_requirement}")


def _warn_skipped_fields(model: ApiModel) -> None:
    """Schemas the generated structs cannot carry as typed fields are named, never silently."""
    for skipped in model.skipped_fields[:20]:
        click.echo(f"warning: #{_printable(skipped.definition)}: {_printable(skipped.reason)}",
                   err=True)
    if len(model.skipped_fields) > 20:
        click.echo(f"warning: ... and {len(model.skipped_fields) - 20} more", err=True)


def _warn_unrendered_subresources(model: ApiModel) -> None:
    """Subresources without a typed client are named; connect (streaming) endpoints, which
    no typed client offers yet, are summed up in one note."""
    connect = 0
    for item in unrendered_subresources(model):
        if item.subresource.connect:
            connect += 1
            continue
        click.echo(f"warning: {_printable(item.path)}: {_printable(item.reason)}", err=True)
    if connect:
        click.echo(f"note: {connect} connect subresources (exec, attach, portforward, proxy) "
                   "have no typed client; see `inspect -o json` (\"unrendered\")", err=True)


def _warn_meta_differences(meta: MetaPlan | None) -> None:
    """The input's meta/v1 against the runtime's: definitions generated locally, and
    properties the runtime's classes cannot carry, one warning each."""
    if meta is None:
        return
    for local in meta.local:
        click.echo(f"warning: #{_printable(local.definition)}: "
                   f"{_printable(local.describe(meta.runtime.source))}", err=True)
    for missing in meta.missing:
        click.echo(f"warning: #{_printable(missing.definition)}: "
                   f"{_printable(missing.describe(meta.runtime.source))}", err=True)


@main.command("inspect")
@spec_option
@crd_option
@cluster_options
@group_option
@click.option("-o", "--output", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
def inspect_command(spec: str | None, crds: tuple[str, ...], from_cluster: bool,
                    kubeconfig: str | None, context: str | None, openapi: str,
                    groups: tuple[str, ...], output: str) -> None:
    """Show the groups, versions and resources (like kubectl api-resources -o wide)."""
    try:
        _, model, notes = load_model_with_notes(
            SpecSource(spec, from_cluster, kubeconfig, context, crds, openapi), groups)
    except _INPUT_ERRORS as exc:
        _fail(exc)
        return
    except RecursionError:
        _fail(_TOO_DEEP)
        return
    _notes(notes)
    rows = resource_rows(model)
    if output == "json":
        click.echo(json.dumps(rows, indent=2))
        return
    aliases = None
    if from_cluster:  # short names and categories are discovery's, not the document's
        try:
            aliases = cluster_aliases(kubeconfig, context)
        except (KubernetesError, ConfigError) as exc:
            click.echo(f"note: no short names or categories: {_printable(str(exc))}", err=True)
    click.echo(format_table(rows, aliases))


@main.command("validate")
@spec_option
@crd_option
@cluster_options
def validate_command(spec: str | None, crds: tuple[str, ...], from_cluster: bool,
                     kubeconfig: str | None, context: str | None, openapi: str) -> None:
    """Validate a spec (structure, references, and that a model can be built)."""
    try:
        loaded, model, notes = load_model_with_notes(
            SpecSource(spec, from_cluster, kubeconfig, context, crds, openapi))
    except _INPUT_ERRORS as exc:
        _fail(exc)
        return
    except RecursionError:
        _fail(_TOO_DEEP)
        return
    _notes(notes)
    click.echo(f"{_printable(loaded.source)}: valid ({len(model.structs)} types, "
               f"{len(model.resources())} resources in {len(model.groups)} groups)")


if __name__ == "__main__":  # pragma: no cover
    main()

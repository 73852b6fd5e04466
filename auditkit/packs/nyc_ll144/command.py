"""``audit ll144 RESULTS.json -o DIR``: the pack's subcommand of the ``audit`` command line."""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["ll144"]


@click.command()
@click.argument("results_file", metavar="RESULTS.json", type=click.Path(path_type=Path))
@click.option("-o", "--output", "out_dir", required=True, type=click.Path(path_type=Path),
              help="Folder for ll144.html and ll144.csv.")
@click.option("--templates", type=click.Path(path_type=Path), help="A folder of templates overriding the bundled ones.")
def ll144(results_file, out_dir, templates):
    """Re-create ll144.html and ll144.csv from a saved results.json.

    The NYC LL144 bias audit summary, as `audit check` wrote it. A pure function of the results, like `audit report`; the run must have extended nyc-ll144.
    """
    from ...sanitize import terminal_safe as term
    from .documents import write_ll144

    html, table = write_ll144(results_file, out_dir, templates=templates)
    click.echo(term(f"LL144 summary: {html}"))
    click.echo(term(f"LL144 table:   {table}"))

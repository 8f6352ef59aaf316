"""`validate-model`: the textbook checks."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from channelsim.cli.common import (
    friendly,
)


@click.command("validate-model")
@click.option(
    "--case",
    "cases",
    multiple=True,
    metavar="NAME",
    help="Run only this case (repeatable): stacked_margins, dual_channel, bertrand, logit, "
    "rep_pricing, own_costs, conflict_service, rep_effort.",
)
@click.option(
    "--scenarios",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of the validation scenarios (default: the bundled scenarios/validation).",
)
@click.option("--markdown", is_flag=True, help="Markdown table, with why each tolerance.")
@friendly
def validate_model(cases: tuple[str, ...], scenarios: Path | None, markdown: bool) -> None:
    """Reproduce textbook closed-form results; exit 1 if any check fails.

    Stacked margins, dual-channel demand, a Bertrand conflict, logit shares, how pay
    shapes a rep's price, the intermediaries' own costs, a conflict between unlike offers,
    and a rep's effort and the best commission (docs/validation.md). Takes well under a
    minute.

    \b
    Example:
      channelsim validate-model --case stacked_margins
    """
    from channelsim.experiments import validation
    from channelsim.output.check_tables import checks_table

    checks = validation.run_suite(scenarios or validation.FOLDER, cases or None)
    click.echo(checks_table(checks, markdown=markdown))
    failed = sum(not check.passed for check in checks)
    click.echo(f"\n{len(checks) - failed} of {len(checks)} checks passed")
    if failed:
        sys.exit(1)

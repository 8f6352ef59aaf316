"""`template`: example tables for a market read from data."""

from __future__ import annotations

from pathlib import Path

import click

from channelsim.cli.common import UserError, friendly


@click.command("template")
@click.argument("table", type=click.Choice(["customers", "dealers", "reps"]))
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write (default TABLE.csv here); .csv or .xlsx.",
)
@friendly
def template(table: str, out: Path | None) -> None:
    """Write an example TABLE with every expected column, and list the columns.

    \b
    Example:
      channelsim template customers --out my_market/customers.csv
    """
    from channelsim.scenario import population
    from channelsim.storage import results

    out = out or Path(f"{table}.csv")
    if out.suffix.lower() not in (".csv", ".xlsx"):
        raise UserError(f"--out {out}: the file name must end in .csv or .xlsx")
    if out.exists():
        raise UserError(f"{out}: exists; choose another --out (nothing was overwritten)")
    frame = population.template(table)
    if out.suffix.lower() == ".xlsx":
        results.atomic_write(out, lambda tmp: frame.to_excel(tmp, index=False, engine="openpyxl"))
    else:
        results.write_csv(out, frame)
    click.echo(f"Wrote {out}. Columns of the {table} table:")
    columns = population.describe(table)
    width = max(len(name) for name, _, _ in columns)
    for name, required, meaning in columns:
        click.echo(f"  {name:<{width}}  {'required' if required else 'optional'}  {meaning}")

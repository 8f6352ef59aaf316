"""`schema`: the settings reference, generated from the schema."""

from __future__ import annotations

import click


@click.command("schema")
@click.option("--markdown", is_flag=True, help="The settings reference (docs/settings.md).")
def schema_command(markdown: bool) -> None:
    """Print the JSON Schema of a scenario file, for editors to complete and check it.

    \b
    Examples:
      channelsim schema > scenario.schema.json
      channelsim schema --markdown > docs/settings.md
    """
    from channelsim.scenario import reference

    click.echo(reference.markdown() if markdown else reference.json_text(), nl=False)

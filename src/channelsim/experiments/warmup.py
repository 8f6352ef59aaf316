"""What happened during the warm-up, which every KPI leaves out.

The warm-up weeks (negative week numbers in the weekly series) let the market settle before
the measured weeks start, but a channel can also collapse in them: dealers that conflicts
drive out in the first year are gone before the first measured week, so the measured
exits are zero. Those losses are summarised here, per scenario, so a command can say so
(`output.display.warmup_notes`).
"""

from __future__ import annotations

import pandas as pd

# Weekly counts of losses the measured KPIs would not show had they happened in the warm-up.
COUNTED = ("dealers_exited", "dealers_exited_dissatisfied")
# A warm-up that lost this share of its dealers, or any to conflicts, is worth a note.
NOTABLE_SHARE = 0.05
COLUMNS = ["warmup_weeks", *COUNTED, "dealers_at_start"]


def warmup_losses(weekly: pd.DataFrame) -> pd.DataFrame:
    """Per scenario: its warm-up's length, and the means per replicate of the dealers at the
    start and of each `COUNTED` count over the warm-up (no rows without a warm-up)."""
    by = ["scenario"] if "scenario" in weekly.columns else []
    needed = {"week", "replicate", "dealers_active", *COUNTED}
    early = weekly[weekly["week"] < 0] if needed <= set(weekly.columns) else weekly.iloc[:0]
    if early.empty:
        return pd.DataFrame(columns=[*by, *COLUMNS])
    runs = early.groupby([*by, "replicate"], sort=False)
    per_run = runs[list(COUNTED)].sum()
    first = runs.head(1).set_index([*by, "replicate"])  # each run's first week
    per_run["dealers_at_start"] = first["dealers_active"] + first["dealers_exited"]
    per_run["warmup_weeks"] = -first["week"]
    if not by:
        return per_run.mean().to_frame().T[COLUMNS]
    return per_run.groupby(level=by, sort=False).mean()[COLUMNS].reset_index()


def notable(losses: pd.DataFrame) -> pd.DataFrame:
    """The rows of `warmup_losses` worth a note: dealers lost to conflicts, or a notable
    share of the dealers lost for any reason."""
    share = losses["dealers_exited"] / losses["dealers_at_start"].clip(lower=1.0)
    return losses[(losses["dealers_exited_dissatisfied"] > 0) | (share >= NOTABLE_SHARE)]

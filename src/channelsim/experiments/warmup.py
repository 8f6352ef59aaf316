"""What happened during the warm-up, which every KPI leaves out.

The warm-up weeks (negative week numbers in the weekly series) let the market settle before
the measured weeks start, but a channel can also collapse in them: dealers that conflicts
drive out in the first year are gone before the first measured week, so the measured
exits are zero. Those losses are summarised here, per scenario, so a command can say so.
"""

from __future__ import annotations

import pandas as pd

# Weekly counts of losses the measured KPIs would not show had they happened in the warm-up.
COUNTED = ("dealers_exited", "dealers_exited_dissatisfied")
# A warm-up that lost this share of its dealers, or any to conflicts, is worth a note.
NOTABLE_SHARE = 0.05


def warmup_losses(weekly: pd.DataFrame) -> pd.DataFrame:
    """Per scenario: the warm-up's length and the mean per replicate of each `COUNTED`
    count over its weeks (an empty table when the runs had no warm-up)."""
    by = ["scenario"] if "scenario" in weekly.columns else []
    needed = {"week", "replicate", "dealers_active", *COUNTED}
    early = weekly[weekly["week"] < 0] if needed <= set(weekly.columns) else weekly.iloc[:0]
    if early.empty:
        return pd.DataFrame(columns=[*by, "warmup_weeks", *COUNTED, "dealers_at_start"])
    runs = early.groupby([*by, "replicate"])
    per_run = runs[list(COUNTED)].sum()
    first = runs.head(1).set_index([*by, "replicate"])  # the first week, before any exit
    per_run["dealers_at_start"] = first["dealers_active"] + first["dealers_exited"]
    table = per_run.groupby(level=by).mean() if by else per_run.mean().to_frame().T
    table.insert(0, "warmup_weeks", int(-early["week"].min()))
    return table.reset_index() if by else table.reset_index(drop=True)


def warmup_notes(weekly: pd.DataFrame) -> list[str]:
    """One sentence per scenario that lost dealers to conflicts, or a notable share of
    them, during the warm-up; none otherwise."""
    notes = []
    for _, row in warmup_losses(weekly).iterrows():
        share = row["dealers_exited"] / max(row["dealers_at_start"], 1.0)
        if not (row["dealers_exited_dissatisfied"] > 0 or share >= NOTABLE_SHARE):
            continue
        who = f"{row['scenario']}: " if "scenario" in row else ""
        parts = [f"{row['dealers_exited']:.3g} dealers left"]
        if row["dealers_exited_dissatisfied"] > 0:
            parts.append(
                f"{row['dealers_exited_dissatisfied']:.3g} of them dissatisfied by conflicts"
            )
        notes.append(
            f"{who}during the {int(row['warmup_weeks'])}-week warm-up, which the KPIs leave out, "
            f"{', '.join(parts)} (mean per replicate); dealers_active and revenue_dealer show "
            "what is left of the channel, --set warmup_weeks=0 counts those exits"
        )
    return notes

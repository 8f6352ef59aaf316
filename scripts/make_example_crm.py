"""Write the synthetic example CRM market in scenarios/example_crm/ (seeded, reproducible).

    python scripts/make_example_crm.py

The tables look like a CRM export: one row per customer (region, segment, annual volume,
dealer, rep, who it buys from today, whether it is in the CRM, renewal month, and for the
company's own customers the date of the last purchase), one row per dealer and per rep.
Every number is drawn from the seeded generator below; none is real.

`observed.yaml` (the KPI report the worked example in docs/calibration.md calibrates to) is
synthetic too: the means of 8 simulated years of this market with HIDDEN settings, and
their standard errors, so the calibration's answer can be checked against the truth.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

import channelsim

SEED = 20261201
AS_OF = date(2026, 1, 1)  # the export's date: week 0 (market.population.as_of)
FOLDER = Path(__file__).resolve().parents[1] / "scenarios" / "example_crm"
REGIONS = {"North": 0.40, "East": 0.35, "South": 0.25}
GENERAL_AGENT = {"North": "North GA", "East": "North GA", "South": "South GA"}
# segment: (share of customers, mean annual volume, chance it buys from us today)
SEGMENTS = {
    "large_accounts": (0.04, 40.0, 0.45),
    "smes": (0.36, 4.0, 0.3),
    "individuals": (0.60, 1.0, 0.2),
}
CUSTOMERS = 4000
DEALERS_PER_REGION = {"North": 4, "East": 3, "South": 2}
HIDDEN = {"market.choice.scale": 6.0, "dealers.reach": 0.45}
OBSERVED_KPIS = ("market_share", "revenue_dealer", "revenue_direct", "avg_price_index")
YEARS = 8
REPS_PER_REGION = {"North": 2, "East": 2, "South": 1}


def dealers() -> pd.DataFrame:
    rows = []
    for region, n in DEALERS_PER_REGION.items():
        for k in range(n):
            rows.append({"id": f"D-{region[:1]}{k + 1}", "region": region, "general_agent": ""})
    return pd.DataFrame(rows)


def reps() -> pd.DataFrame:
    rows = []
    for region, n in REPS_PER_REGION.items():
        for k in range(n):
            rows.append({"id": f"R-{region[:1]}{k + 1}", "region": region, "role": "seller"})
    return pd.DataFrame(rows)


def customers(
    rng: np.random.Generator, dealer_table: pd.DataFrame, rep_table: pd.DataFrame
) -> pd.DataFrame:
    region = rng.choice(list(REGIONS), size=CUSTOMERS, p=list(REGIONS.values()))
    names = list(SEGMENTS)
    segment = rng.choice(names, size=CUSTOMERS, p=[v[0] for v in SEGMENTS.values()])
    mean = np.array([SEGMENTS[s][1] for s in segment])
    volume = np.maximum(0.5, rng.gamma(4.0, mean / 4.0)).round(1)
    dealer, rep = [], []
    for r in region:
        ds = dealer_table.loc[dealer_table.region == r, "id"].to_numpy()
        rs = rep_table.loc[rep_table.region == r, "id"].to_numpy()
        dealer.append(rng.choice(ds) if rng.random() < 0.85 else "")  # 15% have no dealer
        rep.append(rng.choice(rs))
    dealer = np.array(dealer, dtype=object)
    ours = rng.random(CUSTOMERS) < np.array([SEGMENTS[s][2] for s in segment])
    via_dealer = (dealer != "") & (rng.random(CUSTOMERS) < 0.6)
    buys_from = np.where(ours, np.where(via_dealer, "dealer", "rep"), "none")
    in_crm = np.where((buys_from == "rep") & (rng.random(CUSTOMERS) < 0.5), "yes", "no")
    month = rng.integers(1, 13, size=CUSTOMERS)
    # The CRM also knows when the company's own customers last bought: a year before a day
    # in the first four weeks of their renewal month (so the two columns agree).
    start = np.array([(date(AS_OF.year, m, 1) - AS_OF).days // 7 for m in month])
    weeks_back = 52 - (start + rng.integers(0, 4, size=CUSTOMERS))
    last = [
        (AS_OF - timedelta(weeks=int(w))).isoformat() if b != "none" else ""
        for w, b in zip(weeks_back, buys_from, strict=True)
    ]
    return pd.DataFrame(
        {
            "id": [f"C{i + 1:05d}" for i in range(CUSTOMERS)],
            "region": region,
            "segment": segment,
            "annual_volume": volume,
            "dealer": dealer,
            "rep": rep,
            "buys_from": buys_from,
            "in_crm": in_crm,
            "renewal_month": month,
            "last_purchase": last,
        }
    )


def main() -> None:
    rng = np.random.default_rng(SEED)
    FOLDER.mkdir(parents=True, exist_ok=True)
    d, r = dealers(), reps()
    d.to_csv(FOLDER / "dealers.csv", index=False)
    r.to_csv(FOLDER / "reps.csv", index=False)
    customers(rng, d, r).to_csv(FOLDER / "customers.csv", index=False)
    (FOLDER / "observed.yaml").write_text(observed())
    print(f"wrote {FOLDER}/customers.csv, dealers.csv, reps.csv, observed.yaml")


def observed() -> str:
    """Means and standard errors of YEARS simulated years at the hidden settings."""
    scenario = channelsim.load_scenario(FOLDER / "scenario.yaml", HIDDEN)
    runs = channelsim.run(scenario, replicates=YEARS, seed=SEED + 1)
    kpis = runs.kpis
    targets = {
        k: {"value": float(kpis[k].mean()), "se": float(kpis[k].std(ddof=1) / np.sqrt(YEARS))}
        for k in OBSERVED_KPIS
    }
    weekly = runs.weekly[runs.weekly["week"] >= 0]  # the warm-up weeks are not observed
    quarter = weekly["week"] // 13
    per_year = weekly.groupby(["replicate", quarter])["revenue_dealer"].sum().unstack()
    series = {
        "revenue_dealer": {
            "period": "quarter",
            "values": [float(v) for v in per_year.mean()],
            "se": [float(v) for v in per_year.std(ddof=1) / np.sqrt(YEARS)],
        }
    }
    head = (
        "# Synthetic KPI report for the example CRM market (scripts/make_example_crm.py):\n"
        f"# means of {YEARS} simulated years with hidden settings, and their standard errors.\n"
    )
    return head + yaml.safe_dump(
        {"weeks": scenario.weeks, "targets": targets, "series": series}, sort_keys=False
    )


if __name__ == "__main__":
    main()

"""A market from data: tables checked cell by cell, turned into the model's agents."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

import channelsim
from channelsim.cli import main
from channelsim.errors import ChannelsimError
from channelsim.model.channel_model import ChannelModel
from channelsim.model.market import DEALER, NO_ONE, REP
from channelsim.output.network import regions
from channelsim.scenario import population
from channelsim.scenario.schema import Scenario

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "scenarios" / "example_crm" / "scenario.yaml"

SCENARIO = """\
name: tables
weeks: 6
replicates: 2
market:
  population: {customers: customers.csv, dealers: dealers.csv, reps: reps.csv}
  regions: [{name: North}, {name: South}]
  segments:
    - {name: smes, volume: 4, cycle_weeks: 52, valuation: {low: 80, high: 150}}
    - {name: individuals, cycle_weeks: 52, valuation: {low: 70, high: 140}}
general_agents:
  agents: [{name: GA, regions: [North, South]}]
reps: {headcount: 99}
"""


def write_market(folder: Path, scenario: str = SCENARIO, **tables: pd.DataFrame) -> Path:
    """The three templates (or the given tables) beside a scenario that names them."""
    folder.mkdir(parents=True, exist_ok=True)
    for kind in population.TABLES:
        frame = tables.get(kind, population.template(kind))
        frame.to_csv(folder / f"{kind}.csv", index=False)
    path = folder / "scenario.yaml"
    path.write_text(scenario)
    return path


def load_error(path: Path) -> str:
    with pytest.raises(ChannelsimError) as info:
        channelsim.load_scenario(path)
    return str(info.value)


def test_the_templates_make_a_market_that_runs(tmp_path: Path) -> None:
    sc = channelsim.load_scenario(write_market(tmp_path))
    assert population.counts(sc) == {"customers": 3, "dealers": 2, "reps": 2}
    results = channelsim.run(sc.with_overrides({"weeks": 52}), replicates=1, seed=1)
    assert results.kpis["market_share"].notna().all()  # every customer decided once


def test_the_model_builds_agents_as_the_tables_say(tmp_path: Path) -> None:
    customers = pd.DataFrame(
        {
            "id": ["a", "b", "c", "d"],
            "region": ["North", "South", "South", "North"],
            "segment": ["smes", "smes", "individuals", "individuals"],
            "annual_volume": ["26", "", "52", "1"],
            "dealer": ["D1", "", "D2", ""],
            "rep": ["", "R2", "", "R1"],
            "buys_from": ["dealer", "rep", "none", ""],
            "in_crm": ["no", "yes", "", ""],
            "renewal_month": ["1", "7", "", "12"],
        }
    )
    sc = channelsim.load_scenario(write_market(tmp_path, customers=customers))
    model = ChannelModel(sc, seed=3)
    pop, st = model.population, model.state
    assert pop.region.tolist() == [0, 1, 1, 0]
    # Annual volume per purchase cycle (52 weeks here); empty: the segment's volume.
    assert pop.volume.tolist() == [26.0, 4.0, 52.0, 1.0]
    assert st.dealer.tolist() == [0, -1, 1, -1]
    reps = model.reps.region[st.rep_slot]
    assert reps.tolist() == [0, 1, 1, 0]  # named reps, or one of the customer's region
    assert pop.incumbent[:3].tolist() == [DEALER, REP, NO_ONE]
    assert st.crm[:2].tolist() == [False, True]
    assert pop.window_end[[0, 1, 3]].tolist() == [0, 26, 47]  # months 1, 7, 12 of 52 weeks
    assert model.reps.region.size == 2  # the table's reps, not reps.headcount


def test_bigger_annual_volumes_sell_more_units(tmp_path: Path) -> None:
    base = population.template("customers")
    rows = pd.concat([base] * 40, ignore_index=True)
    rows["id"] = [f"C{i}" for i in range(len(rows))]
    rows["annual_volume"] = "10"
    rows["renewal_month"] = ""
    double = rows.assign(annual_volume="20")
    units = {}
    for name, table in (("base", rows), ("double", double)):
        sc = channelsim.load_scenario(write_market(tmp_path / name, customers=table))
        units[name] = channelsim.run(sc.with_overrides({"weeks": 52}), 3, seed=4).kpis["units"]
    ratio = units["double"].to_numpy() / units["base"].to_numpy()
    assert np.all((ratio > 1.6) & (ratio < 2.4)), ratio


@pytest.mark.parametrize(
    "kind, column, value, message",
    [
        (
            "customers",
            "region",
            "Nort",
            "row 2, column region: unknown region 'Nort'; expected "
            "one of ['North', 'South']; did you mean 'North'?",
        ),
        ("customers", "segment", "", "row 2, column segment: expected a segment, found an empty"),
        (
            "customers",
            "annual_volume",
            "-3",
            "row 2, column annual_volume: expected a number > 0, found '-3'",
        ),
        ("customers", "annual_volume", "lots", "expected a number > 0, found 'lots'"),
        ("customers", "dealer", "D9", "row 2, column dealer: dealer 'D9' does not exist in"),
        ("customers", "rep", "R7", "row 2, column rep: rep 'R7' does not exist in"),
        ("customers", "renewal_month", "13", "expected a whole number >= 1 and <= 12, found '13'"),
        ("customers", "in_crm", "maybe", "expected yes or no, found 'maybe'"),
        (
            "customers",
            "last_purchase",
            "5",
            "row 2, column last_purchase: week 5 is in the future; expected a week <= 0",
        ),
        (
            "customers",
            "last_purchase",
            "2026-02-30",
            "column last_purchase: expected a date YYYY-MM-DD or a whole number of weeks <= 0 "
            "(0 = week 0), found '2026-02-30'",
        ),
        (
            "customers",
            "last_purchase",
            "2026-01-15",
            "the date '2026-01-15' needs the date of week 0: set market.population.as_of",
        ),
        (
            "customers",
            "claims_to_date",
            "-3",
            "row 2, column claims_to_date: expected a number >= 0, found '-3'",
        ),
        ("customers", "claims_to_date", "n/a", "expected a number >= 0, found 'n/a'"),
        ("customers", "buys_from", "web", "unknown channel 'web'"),
        ("dealers", "region", "West", "dealers.csv, row 2, column region: unknown region 'West'"),
        ("dealers", "general_agent", "Nobody", "unknown general agent 'Nobody'"),
        ("dealers", "id", "D2", "row 3, column id: id 'D2' appears twice (rows 2 and 3)"),
        ("reps", "role", "boss", "reps.csv, row 2, column role: unknown role 'boss'"),
    ],
)
def test_bad_cells_are_named_by_file_row_and_column(
    tmp_path: Path, kind: str, column: str, value: str, message: str
) -> None:
    table = population.template(kind)
    table.loc[0, column] = value
    if column == "id" and kind == "dealers":
        table.loc[1, "id"] = value  # both rows D2
        table.loc[0, "id"] = value
    error = load_error(write_market(tmp_path, **{kind: table}))
    assert f"{kind}.csv" in error
    assert message in error, error


def test_a_missing_column_says_how_to_map_another_name(tmp_path: Path) -> None:
    table = population.template("customers").rename(columns={"region": "Territory"})
    error = load_error(write_market(tmp_path, customers=table))
    assert "column 'region' (one of market.regions) is missing" in error
    assert "market.population.columns.customers.region" in error
    mapped = SCENARIO.replace(
        "reps: reps.csv}", "reps: reps.csv, columns: {customers: {region: Territory}}}"
    )
    sc = channelsim.load_scenario(write_market(tmp_path, scenario=mapped, customers=table))
    assert sc.market.population.data.region.tolist() == [0, 0, 1]


def test_dealers_named_without_a_dealer_table_are_refused(tmp_path: Path) -> None:
    no_dealers = SCENARIO.replace(", dealers: dealers.csv", "")
    error = load_error(write_market(tmp_path, scenario=no_dealers))
    assert "column dealer: names dealer 'D1' but the scenario has no dealer table" in error


def test_counts_and_a_population_do_not_mix(tmp_path: Path) -> None:
    both = SCENARIO.replace("{name: smes, volume: 4", "{name: smes, customers: 10, volume: 4")
    assert "market.population reads the customers from a table" in load_error(
        write_market(tmp_path, scenario=both)
    )


def test_paths_are_relative_to_the_file_that_names_them(tmp_path: Path) -> None:
    write_market(tmp_path / "market")
    child = tmp_path / "elsewhere" / "child.yaml"
    child.parent.mkdir()
    child.write_text("extends: ../market/scenario.yaml\nname: child\n")
    sc = channelsim.load_scenario(child)
    assert Path(sc.market.population.customers) == tmp_path / "market" / "customers.csv"
    assert population.counts(sc)["customers"] == 3


def test_xlsx_tables_are_read_like_csv(tmp_path: Path) -> None:
    path = write_market(tmp_path)
    population.template("customers").to_excel(tmp_path / "customers.xlsx", index=False)
    path.write_text(SCENARIO.replace("customers: customers.csv", "customers: customers.xlsx"))
    sc = channelsim.load_scenario(path)
    assert sc.market.population.data.segment.tolist() == [0, 1, 0]


def test_the_data_travels_with_the_scenario_but_not_into_its_yaml(tmp_path: Path) -> None:
    sc = channelsim.load_scenario(write_market(tmp_path))
    changed = sc.with_overrides({"dealers.reach": 0.5})  # as sweeps and calibrations do
    assert changed.market.population.data is sc.market.population.data
    copied = pickle.loads(pickle.dumps(changed))  # as worker processes receive it
    assert copied.market.population.data.dealer.tolist() == [0, -1, 1]
    dumped = sc.model_dump(mode="json")["market"]["population"]
    assert "data" not in dumped and dumped["customers"].endswith("customers.csv")


def test_validate_summarises_what_was_read() -> None:
    result = CliRunner().invoke(main, ["validate", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    assert "Read from tables: 4,000 customers, 9 dealers, 5 reps" in result.output
    assert "Customers without a dealer:" in result.output
    assert "Next purchase from last_purchase: 1,004, from renewal_month: 2,996" in result.output
    summary = population.summary(channelsim.load_scenario(EXAMPLE))
    assert summary["customers"].sum() == 4000
    assert list(summary.columns) == [
        "region",
        "segment",
        "customers",
        "without_dealer",
        "buys_from_us",
    ]


def test_a_bad_table_exits_2_with_one_line(tmp_path: Path) -> None:
    table = population.template("customers")
    table.loc[1, "annual_volume"] = "-1"
    path = write_market(tmp_path, customers=table)
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 2
    assert "customers.csv, row 3, column annual_volume: expected a number > 0" in result.output
    assert "Traceback" not in result.output


def test_template_writes_the_expected_columns_and_never_overwrites(tmp_path: Path) -> None:
    out = tmp_path / "dealers.csv"
    first = CliRunner().invoke(main, ["template", "dealers", "--out", str(out)])
    assert first.exit_code == 0, first.output
    assert list(pd.read_csv(out).columns) == ["id", "region", "general_agent"]
    again = CliRunner().invoke(main, ["template", "dealers", "--out", str(out)])
    assert again.exit_code == 2 and "exists" in again.output
    json = CliRunner().invoke(main, ["template", "dealers", "--out", str(tmp_path / "d.json")])
    assert json.exit_code == 2 and "must end in .csv or .xlsx" in json.output
    assert not (tmp_path / "d.json").exists()


def test_the_data_cannot_be_written_in_a_file(tmp_path: Path) -> None:
    sneaky = SCENARIO.replace("reps: reps.csv}", "reps: reps.csv, data: {region: [0]}}")
    error = load_error(write_market(tmp_path, scenario=sneaky))
    assert "market.population.data: is set by the loader from the tables" in error


def test_a_copy_naming_another_table_reads_it(tmp_path: Path) -> None:
    sc = channelsim.load_scenario(write_market(tmp_path))
    more = pd.concat([population.template("customers")] * 2, ignore_index=True)
    more["id"] = [f"X{i}" for i in range(len(more))]
    more.to_csv(tmp_path / "more.csv", index=False)
    changed = sc.with_overrides({"market.population.customers": str(tmp_path / "more.csv")})
    assert population.counts(changed)["customers"] == 6


def test_without_a_dealer_table_customers_of_regions_with_dealers_have_one(tmp_path: Path) -> None:
    counted = SCENARIO.replace(", dealers: dealers.csv", "")
    customers = population.template("customers").assign(dealer="")
    sc = channelsim.load_scenario(write_market(tmp_path, scenario=counted, customers=customers))
    assert population.summary(sc)["without_dealer"].sum() == 0
    direct = sc.with_overrides({"strategy": "direct"})
    assert population.summary(direct)["without_dealer"].sum() == 3


def test_customer_counts_are_the_table_rows_per_region_and_segment(tmp_path: Path) -> None:
    customers = pd.DataFrame(
        {
            "region": ["North", "South", "South", "North", "South"],
            "segment": ["smes", "smes", "individuals", "smes", "smes"],
        }
    )
    sc = channelsim.load_scenario(write_market(tmp_path, customers=customers))
    expected = {
        ("North", "smes"): 2,
        ("North", "individuals"): 0,
        ("South", "smes"): 2,
        ("South", "individuals"): 1,
    }
    assert sc.market.customer_counts() == expected
    pop = ChannelModel(sc, seed=1).population
    names = [
        (sc.market.regions[r].name, sc.market.segments[s].name)
        for r, s in zip(pop.region, pop.segment, strict=True)
    ]
    assert {pair: names.count(pair) for pair in expected} == expected
    assert [region.customers for region in regions(sc)] == [2, 3]  # the network picture


def test_counting_a_table_market_needs_its_table_read() -> None:
    sc = Scenario.model_validate(yaml.safe_load(SCENARIO))  # built in Python, tables unread
    with pytest.raises(ChannelsimError, match="has not been read"):
        sc.market.customer_counts()


def customers(n: int, **columns: object) -> pd.DataFrame:
    """`n` customers of segment smes in North, with the given columns."""
    frame = pd.DataFrame(
        {"id": [f"C{i}" for i in range(n)], "region": "North", "segment": "smes", **columns}
    )
    return frame


def test_a_last_purchase_puts_the_next_purchase_a_cycle_later(tmp_path: Path) -> None:
    table = customers(4, last_purchase=["0", "-10", "-60", ""])
    sc = channelsim.load_scenario(write_market(tmp_path / "weeks", customers=table))
    window_end = ChannelModel(sc, seed=3).population.window_end
    # bought this week: in 52 weeks; 10 weeks ago: in 42; 60 weeks ago (overdue): phase kept
    assert window_end[:3].tolist() == [52, 42, 44]
    dated = SCENARIO.replace("reps: reps.csv}", "reps: reps.csv, as_of: 2026-03-02}")
    table = customers(3, last_purchase=["2026-02-23", "2026-03-01", ""], renewal_month="4")
    table.loc[0:1, "renewal_month"] = ""
    sc = channelsim.load_scenario(write_market(tmp_path / "dates", dated, customers=table))
    # 7 days before week 0 is week -1; 1 day before is week 0; April 1st is 30 days on
    assert ChannelModel(sc, seed=3).population.window_end.tolist() == [51, 52, 4]


def test_a_last_purchase_in_the_future_of_as_of_is_refused(tmp_path: Path) -> None:
    dated = SCENARIO.replace("reps: reps.csv}", "reps: reps.csv, as_of: 2026-03-02}")
    table = customers(2, last_purchase=["2026-01-05", "2026-03-09"])
    error = load_error(write_market(tmp_path, dated, customers=table))
    assert (
        "customers.csv, row 3, column last_purchase: 2026-03-09 is in the future: after "
        "market.population.as_of 2026-03-02" in error
    ), error


def test_a_renewal_month_and_a_last_purchase_must_agree(tmp_path: Path) -> None:
    # month 11 is weeks 43-46; a purchase 8 weeks ago comes up again in week 44
    agree = customers(1, renewal_month="11", last_purchase="-8")
    sc = channelsim.load_scenario(write_market(tmp_path / "agree", customers=agree))
    assert ChannelModel(sc, seed=1).population.window_end.tolist() == [44]
    disagree = customers(2, renewal_month="11", last_purchase=["-8", "-20"])
    error = load_error(write_market(tmp_path / "disagree", customers=disagree))
    assert (
        "row 3, column last_purchase: a last purchase in week -20 puts the next one in week 32, "
        "but renewal_month 11 says weeks 43-46; give one of the two, or make them agree" in error
    ), error


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_recent_purchases_sell_less_in_the_first_weeks(tmp_path: Path, seed: int) -> None:
    """Customers who bought in the last quarter are not due again this quarter: the more of
    them, the fewer units in the first 13 weeks (the others' windows are drawn)."""
    rng = np.random.default_rng(seed)
    units = []
    for share in (0.0, 0.5, 1.0):
        recent = rng.random(400) < share
        weeks = np.where(recent, -rng.integers(0, 13, 400), 0).astype(str)
        table = customers(400, last_purchase=np.where(recent, weeks, ""))
        sc = channelsim.load_scenario(write_market(tmp_path / f"{share}", customers=table))
        run = channelsim.run(sc.with_overrides({"weeks": 13, "warmup_weeks": 0}), 1, seed=seed)
        units.append(float(run.kpis["units"].iloc[0]))
    assert units[0] > 1.3 * units[1] > 0, units
    assert units[2] == 0, units


INSURED = SCENARIO.replace(
    "reps: {headcount: 99}",
    "reps: {headcount: 99}\n"
    "insurance: {enabled: true, action: reprice, surcharge: 0.25, loss_ratio_threshold: 1.2}",
)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_claims_to_date_get_a_customer_repriced_by_experience_rating(
    tmp_path: Path, seed: int
) -> None:
    """The segments bring no new claims (loss_ratio 0): only the table's claims to date can
    push a customer's loss ratio over the threshold, and then its premium goes up: without
    a competitor, those who renew pay more; with one (at the list price), they leave."""
    table = customers(300, buys_from="rep", claims_to_date="0")
    table.loc[:149, "claims_to_date"] = "5000"  # far above 1.2 x one purchase's premium
    with_claims = channelsim.load_scenario(write_market(tmp_path / "c", INSURED, customers=table))
    no_claims = channelsim.load_scenario(
        write_market(tmp_path / "n", INSURED, customers=table.assign(claims_to_date="0"))
    )
    years = {"weeks": 104, "warmup_weeks": 0}
    model = ChannelModel(with_claims.with_overrides(years), seed=seed)
    model.run()
    flagged, bought = model.state.flagged, model.state.premium > 0
    assert flagged[:150].sum() == bought[:150].sum() > 50  # every one that bought is flagged
    assert not flagged[150:].any()
    assert population.history(with_claims)["with_claims"] == 150
    shown = CliRunner().invoke(main, ["validate", str(tmp_path / "c" / "scenario.yaml")])
    assert "Claims to date: 150 customers, 750,000 in total\n" in shown.output, shown.output
    kpis = {}
    for competitor in (False, True):
        for name, sc in (("claims", with_claims), ("none", no_claims)):
            changed = sc.with_overrides({**years, "market.competitor.enabled": competitor})
            kpis[name, competitor] = channelsim.run(changed, 1, seed=seed).kpis.iloc[0]
    price = {k: v["revenue"] / v["units"] for k, v in kpis.items() if not k[1]}
    assert price["claims", False] > 1.02 * price["none", False], price
    assert kpis["claims", True]["revenue"] < 0.9 * kpis["none", True]["revenue"]

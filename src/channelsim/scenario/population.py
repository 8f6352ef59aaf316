"""A market from data: customer, dealer and rep tables turned into plain arrays.

`market.population` names the tables (CSV or .xlsx, paths relative to the scenario file
that names them). The loader reads them once through `storage.inputs.read_table`, checks
every cell against the scenario (known regions, segments, dealers and reps; positive
volumes; months 1-12; last purchases not in the future; claims >= 0) and keeps the result
as `PopulationData` in the Scenario, so every executor ships it with the scenario and the
model builds its agents from arrays without reading a file. What a CRM does not record
(valuations, sensitivities, risk) is drawn per customer from the segment's settings, as for
a market given by counts.

Rows in messages are numbered as a spreadsheet shows them: the header is row 1.
"""

from __future__ import annotations

import difflib
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from channelsim.errors import InputError

if TYPE_CHECKING:
    import pandas as pd  # only where tables are read or made: a scenario without them loads

    # without pandas
    from channelsim.scenario.schema import Scenario

UNKNOWN = -1  # an optional cell left empty: the model draws the value as for counted markets
NOT_OURS, VIA_DEALER, VIA_REP = 0, 1, 2  # `buys_from`
TABLES = ("customers", "dealers", "reps")
TRUE_WORDS = {"1", "true", "yes", "y"}
FALSE_WORDS = {"0", "false", "no", "n"}


@dataclass(frozen=True)
class Column:
    name: str
    required: bool
    meaning: str
    examples: tuple[str, ...]


COLUMNS: dict[str, tuple[Column, ...]] = {
    "customers": (
        Column("id", False, "customer id (text); default the row number", ("C001", "C002", "C003")),
        Column("region", True, "one of market.regions", ("North", "North", "South")),
        Column("segment", True, "one of market.segments", ("smes", "individuals", "smes")),
        Column(
            "annual_volume",
            False,
            "units bought per year (> 0); empty: the segment's volume per cycle",
            ("12", "", "8"),
        ),
        Column(
            "dealer", False, "id of the customer's dealer in dealers; empty: none", ("D1", "", "D2")
        ),
        Column("rep", False, "id of its rep in reps; empty: a rep of its region", ("", "R1", "")),
        Column(
            "buys_from",
            False,
            "dealer, rep or none: who it buys from today; empty: drawn from initial_share",
            ("dealer", "rep", "none"),
        ),
        Column("in_crm", False, "yes/no: recorded in the CRM; empty: drawn", ("no", "yes", "")),
        Column(
            "renewal_month",
            False,
            "1-12: month of its next purchase (week 0 = start of month 1, or "
            "market.population.as_of); empty: drawn",
            ("3", "11", ""),
        ),
        Column(
            "last_purchase",
            False,
            "date of its last purchase (YYYY-MM-DD, needs market.population.as_of) or its "
            "week (0 = week 0, -13 = 13 weeks before); its next purchase is a cycle later; "
            "empty: drawn",
            ("", "", "-30"),
        ),
        Column(
            "claims_to_date",
            False,
            "claims paid on its policies so far (money >= 0; insurance); empty: 0",
            ("0", "1250", ""),
        ),
    ),
    "dealers": (
        Column("id", True, "dealer id (text), unique", ("D1", "D2")),
        Column("region", True, "one of market.regions", ("North", "South")),
        Column(
            "general_agent",
            False,
            "one of general_agents.agents; empty: the agent serving its region",
            ("", ""),
        ),
    ),
    "reps": (
        Column("id", True, "rep id (text), unique", ("R1", "R2")),
        Column("region", True, "one of market.regions", ("North", "South")),
        Column("role", False, "seller or channel_manager; empty: seller", ("seller", "seller")),
    ),
}


@dataclass(frozen=True, eq=False)
class DealerTable:
    region: NDArray[np.int16]
    general_agent: NDArray[np.int16]  # index into general_agents.agents; -1 when flattened
    ids: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class RepTable:
    region: NDArray[np.int16]
    is_manager: NDArray[np.bool_] | None  # None: no role column, the scenario's reps.role rules
    ids: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class PopulationData:
    """The tables as arrays, one entry per row; names resolved to indices (no Mesa, no files).

    Compared and hashed by identity: it travels inside a frozen Scenario.
    """

    region: NDArray[np.int16]
    segment: NDArray[np.int16]
    annual_volume: NDArray[np.float64]  # NaN: the segment's volume
    dealer: NDArray[np.int32]  # index into dealers, -1 none
    rep: NDArray[np.int32]  # index into reps, -1 a rep of its region at random
    buys_from: NDArray[np.int8]  # UNKNOWN, NOT_OURS, VIA_DEALER, VIA_REP
    in_crm: NDArray[np.int8]  # UNKNOWN, 0, 1
    renewal_month: NDArray[np.int8]  # UNKNOWN or 1..12
    renewal_week: NDArray[np.int32]  # UNKNOWN or the week the renewal month starts (>= 0)
    last_purchase: NDArray[np.float64]  # week of the last purchase (<= 0); NaN: not given
    claims_to_date: NDArray[np.float64]  # claims paid so far (0 where not given)
    dealers: DealerTable | None
    reps: RepTable | None

    @property
    def size(self) -> int:
        return int(self.region.size)


class PopulationError(InputError):
    """Bad population data: 'FILE, row N, column C: what was expected'."""


# --- loading ----------------------------------------------------------------------------


def resolve_paths(raw: Mapping[str, Any], folder: Path) -> None:
    """Make `market.population` table paths relative to the scenario file that names them."""
    market = raw.get("market")
    population = market.get("population") if isinstance(market, Mapping) else None
    if not isinstance(population, dict):
        return
    for table in TABLES:
        value = population.get(table)
        if isinstance(value, str) and value.strip():
            population[table] = os.path.normpath(folder / value)


def attach(scenario: Scenario) -> Scenario:
    """Read the scenario's tables and return the scenario carrying them as arrays."""
    from channelsim.storage.inputs import read_table

    files = scenario.market.population
    if files is None:
        return scenario
    if files.data is not None:
        return scenario
    frames = {"customers": (files.customers, read_table(files.customers, "customer table"))}
    for table in ("dealers", "reps"):
        path = getattr(files, table)
        if path is not None:
            frames[table] = (path, read_table(path, f"{table[:-1]} table"))
    data = parse(frames, scenario)
    population = files.model_copy(update={"data": data})
    market = scenario.market.model_copy(update={"population": population})
    return scenario.model_copy(update={"market": market})


def carry(old: Scenario, new: Scenario) -> Scenario:
    """`new` (a changed copy of `old`) with `old`'s tables, read again if their files changed.

    Dumps leave the arrays out, so a copy made through a dump gets them back here.
    """
    before, after = old.market.population, new.market.population
    if after is None or after.data is not None:
        return new
    if before is not None and before.data is not None and _same_files(before, after):
        population = after.model_copy(update={"data": before.data})
        market = new.market.model_copy(update={"population": population})
        return new.model_copy(update={"market": market})
    return attach(new)


def _same_files(a: Any, b: Any) -> bool:
    return (a.customers, a.dealers, a.reps, a.columns, a.as_of) == (
        b.customers,
        b.dealers,
        b.reps,
        b.columns,
        b.as_of,
    )


def parse(frames: Mapping[str, tuple[str, pd.DataFrame]], scenario: Scenario) -> PopulationData:
    """Check the tables against the scenario and turn them into arrays.

    `frames` maps 'customers' (required), 'dealers' and 'reps' to (file name, table).
    """
    files = scenario.market.population
    mapping = files.columns if files is not None else None
    regions = [r.name for r in scenario.market.regions]
    segments = [s.name for s in scenario.market.segments]
    dealers = reps = None
    if "dealers" in frames:
        dealers = _dealers(_Table(*frames["dealers"], "dealers", mapping), scenario, regions)
    if "reps" in frames:
        reps = _reps(_Table(*frames["reps"], "reps", mapping), regions)
    t = _Table(*frames["customers"], "customers", mapping)
    t.ids("id", required=False)
    region = t.names("region", regions, "region")
    segment = t.names("segment", segments, "segment")
    volume = t.numbers("annual_volume", low=0.0, strict_low=True)
    dealer = _links(t, "dealer", dealers.ids if dealers else None, frames.get("dealers"))
    rep = _links(t, "rep", reps.ids if reps else None, frames.get("reps"))
    buys = t.names("buys_from", ["none", "dealer", "rep"], "channel", required=False)
    buys_from = np.where(buys < 0, UNKNOWN, np.array([NOT_OURS, VIA_DEALER, VIA_REP])[buys])
    month = t.numbers("renewal_month", low=1, high=12, whole=True)
    as_of = files.as_of if files is not None else None
    renewal_week, month_weeks = _renewal_weeks(month, as_of)
    last = _last_purchases(t, as_of)
    cycle = np.array([s.cycle_weeks for s in scenario.market.segments])[segment]
    _check_phases(t, month, renewal_week, month_weeks, last, cycle)
    return PopulationData(
        region=region.astype(np.int16),
        segment=segment.astype(np.int16),
        annual_volume=volume,
        dealer=dealer,
        rep=rep,
        buys_from=buys_from.astype(np.int8),
        in_crm=t.flags("in_crm"),
        renewal_month=np.where(np.isnan(month), UNKNOWN, month).astype(np.int8),
        renewal_week=renewal_week,
        last_purchase=last,
        claims_to_date=np.nan_to_num(t.numbers("claims_to_date", low=0.0), nan=0.0),
        dealers=dealers,
        reps=reps,
    )


def _renewal_weeks(
    month: NDArray[np.float64], as_of: date | None
) -> tuple[NDArray[np.int32], NDArray[np.int32]]:
    """The week each renewal month starts and how many weeks it lasts (UNKNOWN: empty).

    Without `as_of`, week 0 is the start of month 1: month m starts in week
    floor((m - 1) * 52 / 12). With `as_of` (the date of week 0), it starts at the first
    1st of month m on or after that date.
    """
    start = np.full(month.size, UNKNOWN, np.int32)
    length = np.zeros(month.size, np.int32)
    for m in range(1, 13):
        rows = month == m
        if as_of is None:
            first, after = math.floor((m - 1) * 52 / 12), math.floor(m * 52 / 12)
        else:
            year = as_of.year if date(as_of.year, m, 1) >= as_of else as_of.year + 1
            begin = date(year, m, 1)
            end = date(year + m // 12, m % 12 + 1, 1)
            first, after = (begin - as_of).days // 7, (end - as_of).days // 7
        start[rows], length[rows] = first, after - first
    return start, length


def _last_purchases(t: _Table, as_of: date | None) -> NDArray[np.float64]:
    """Week of each customer's last purchase relative to week 0 (<= 0); NaN where empty.

    A date counts whole weeks back from `as_of`: a purchase 0-6 days before it is week 0.
    """
    cells = t.cells("last_purchase")
    out = np.full(t.rows, np.nan)
    if cells is None:
        return out
    expected = "a date YYYY-MM-DD or a whole number of weeks <= 0 (0 = week 0)"
    for i, value in enumerate(cells):
        if value == "":
            continue
        try:
            number = float(value)
        except ValueError:
            number = None
        if number is not None:
            if not (math.isfinite(number) and number == int(number)):
                raise t.error(i, "last_purchase", f"expected {expected}, found {value!r}")
            if number > 0:
                raise t.error(
                    i, "last_purchase", f"week {value} is in the future; expected a week <= 0"
                )
            out[i] = number
            continue
        try:
            day = datetime.fromisoformat(value).date()
        except ValueError:
            raise t.error(i, "last_purchase", f"expected {expected}, found {value!r}") from None
        if as_of is None:
            raise t.error(
                i,
                "last_purchase",
                f"the date {value!r} needs the date of week 0: set market.population.as_of "
                "(e.g. the export's date), or give weeks (-13 = 13 weeks before week 0)",
            )
        if day > as_of:
            raise t.error(
                i,
                "last_purchase",
                f"{day.isoformat()} is in the future: after market.population.as_of "
                f"{as_of.isoformat()}",
            )
        out[i] = -((as_of - day).days // 7)
    return out


def first_window_end(
    renewal_week: NDArray[np.int32],
    last_purchase: NDArray[np.float64],
    cycle: NDArray[np.integer],
    drawn: NDArray[np.int32],
) -> NDArray[np.int32]:
    """The week each customer's first buying window ends (its first purchase decision).

    A last purchase in week L (<= 0) puts the next one a cycle later, at
    L + k * cycle for the smallest k >= 1 that is not before week 0 (a customer overdue
    by more than a cycle keeps its phase). Otherwise a renewal month's first week, modulo
    the cycle; otherwise `drawn`. The last purchase comes first where both are given
    (the loader checked that they agree).
    """
    known = ~np.isnan(last_purchase)
    weeks = np.where(known, last_purchase, 0.0)
    cycles = np.maximum(1.0, np.ceil(-weeks / cycle))
    from_last = (weeks + cycles * cycle).astype(np.int32)
    from_month = np.where(renewal_week == UNKNOWN, drawn, renewal_week % cycle)
    return np.where(known, from_last, from_month).astype(np.int32)


def _check_phases(
    t: _Table,
    month: NDArray[np.float64],
    renewal_week: NDArray[np.int32],
    month_weeks: NDArray[np.int32],
    last: NDArray[np.float64],
    cycle: NDArray[np.integer],
) -> None:
    """A row giving both a renewal month and a last purchase must put the next purchase
    in that month (a cycle after the last purchase, within the month's weeks)."""
    both = np.flatnonzero(~np.isnan(last) & (renewal_week != UNKNOWN))
    if both.size == 0:
        return
    none = np.zeros(both.size, np.int32)
    due = first_window_end(renewal_week[both], last[both], cycle[both], none)
    offset = (due - renewal_week[both]) % cycle[both]
    bad = np.flatnonzero(offset >= month_weeks[both])
    if bad.size:
        i = int(both[bad[0]])
        first = int(renewal_week[i]) % int(cycle[i])
        raise t.error(
            i,
            "last_purchase",
            f"a last purchase in week {last[i]:g} puts the next one in week {int(due[bad[0]])}, "
            f"but renewal_month {int(month[i])} says weeks {first}-"
            f"{first + int(month_weeks[i]) - 1}; give one of the two, or make them agree",
        )


def _dealers(t: _Table, scenario: Scenario, regions: list[str]) -> DealerTable:
    ids = t.ids("id", required=True)
    region = t.names("region", regions, "region")
    agents = [a.name for a in scenario.general_agents.agents]
    named = t.names("general_agent", agents, "general agent", required=False)
    needs_agent = scenario.strategy != "direct" and not scenario.flattened
    if not needs_agent:
        agent = np.full(region.size, -1)
    else:
        of_region = np.full(len(regions), -1)
        for g, spec in enumerate(scenario.general_agents.agents):
            for name in spec.regions:
                of_region[regions.index(name)] = g
        agent = np.where(named >= 0, named, of_region[region])
        missing = np.flatnonzero(agent < 0)
        if missing.size:
            i = int(missing[0])
            raise t.error(
                i,
                "general_agent",
                f"region {regions[region[i]]!r} has no general agent; name one of {agents} "
                "or add the region to general_agents.agents[].regions",
            )
    return DealerTable(region.astype(np.int16), agent.astype(np.int16), tuple(ids))


def _reps(t: _Table, regions: list[str]) -> RepTable:
    ids = t.ids("id", required=True)
    region = t.names("region", regions, "region")
    role = t.names("role", ["seller", "channel_manager"], "role", required=False)
    is_manager = None if t.column("role") is None else role == 1
    return RepTable(region.astype(np.int16), is_manager, tuple(ids))


def _links(
    t: _Table, column: str, ids: Sequence[str] | None, other: tuple[str, Any] | None
) -> NDArray[np.int32]:
    """Row indices into the dealer or rep table; -1 where the cell is empty."""
    cells = t.cells(column)
    out = np.full(t.rows, -1, np.int32)
    if cells is None:
        return out
    filled = np.flatnonzero(cells != "")
    if filled.size and ids is None:
        raise t.error(
            int(filled[0]),
            column,
            f"names {column} {cells[filled[0]]!r} but the scenario has no {column} table; "
            f"add market.population.{column}s",
        )
    index = {name: i for i, name in enumerate(ids or ())}
    for i in filled:
        found = index.get(cells[i])
        if found is None:
            where = other[0] if other else f"the {column} table"
            raise t.error(int(i), column, f"{column} {cells[i]!r} does not exist in {where}")
        out[i] = found
    return out


class _Table:
    """One table with its mapped column names, and checks that name file, row and column."""

    def __init__(self, path: str, frame: pd.DataFrame, kind: str, mapping: Any) -> None:
        self.path, self.frame, self.kind = path, frame, kind
        self.rows = len(frame)
        rename = dict(getattr(mapping, kind, {}) or {}) if mapping is not None else {}
        known = {c.name for c in COLUMNS[kind]}
        unknown = sorted(set(rename) - known)
        if unknown:
            raise PopulationError(
                f"market.population.columns.{kind}.{unknown[0]}: unknown column; "
                f"expected one of {sorted(known)}"
            )
        self.names_in_file = {c.name: rename.get(c.name, c.name) for c in COLUMNS[kind]}
        header = [str(c).strip() for c in frame.columns]
        self.frame.columns = header
        for col in COLUMNS[kind]:
            if col.required and self.names_in_file[col.name] not in header:
                mapped = self.names_in_file[col.name]
                raise PopulationError(
                    f"{path}: column {mapped!r} ({col.meaning}) is missing; found {header}. "
                    f"Map another column with market.population.columns.{kind}.{col.name}"
                )

    def error(self, i: int, column: str, message: str) -> Exception:
        return PopulationError(
            f"{self.path}, row {i + 2}, column {self.names_in_file[column]}: {message}"
        )

    def column(self, name: str) -> pd.Series | None:
        mapped = self.names_in_file[name]
        return self.frame[mapped] if mapped in self.frame.columns else None

    def cells(self, name: str) -> NDArray | None:
        """The column as stripped text; empty cells are ''."""
        col = self.column(name)
        if col is None:
            return None
        text = col.map(_text)
        return text.to_numpy(dtype=object)

    def ids(self, name: str, required: bool) -> list[str]:
        cells = self.cells(name)
        if cells is None:
            return [str(i + 2) for i in range(self.rows)]
        seen: dict[str, int] = {}
        for i, value in enumerate(cells):
            if value == "":
                if required:
                    raise self.error(i, name, "expected an id, found an empty cell")
                continue
            if value in seen:
                raise self.error(
                    i, name, f"id {value!r} appears twice (rows {seen[value]} and {i + 2})"
                )
            seen[value] = i + 2
        return list(cells)

    def names(
        self, name: str, allowed: Sequence[str], what: str, required: bool = True
    ) -> NDArray[np.int64]:
        """Indices into `allowed` (exact names); -1 where an optional cell is empty."""
        cells = self.cells(name)
        out = np.full(self.rows, -1, np.int64)
        if cells is None:
            return out
        index = {n: i for i, n in enumerate(allowed)}
        for i, value in enumerate(cells):
            if value == "" and not required:
                continue
            found = index.get(value)
            if found is None:
                shown = (
                    f"unknown {what} {value!r}"
                    if value
                    else f"expected a {what}, found an empty cell"
                )
                close = difflib.get_close_matches(value, list(allowed), n=1, cutoff=0.6)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise self.error(i, name, f"{shown}; expected one of {list(allowed)}{hint}")
            out[i] = found
        return out

    def numbers(
        self,
        name: str,
        low: float | None = None,
        high: float | None = None,
        strict_low: bool = False,
        whole: bool = False,
    ) -> NDArray[np.float64]:
        """Numbers; NaN where a cell is empty."""
        cells = self.cells(name)
        out = np.full(self.rows, np.nan)
        if cells is None:
            return out
        bound = []
        if low is not None:
            bound.append(f"{'>' if strict_low else '>='} {low:g}")
        if high is not None:
            bound.append(f"<= {high:g}")
        expected = f"{'a whole number' if whole else 'a number'} {' and '.join(bound)}".strip()
        for i, value in enumerate(cells):
            if value == "":
                continue
            try:
                number = float(value)
            except ValueError:
                number = float("nan")
            bad = not np.isfinite(number) or (whole and number != int(number))
            bad = bad or (low is not None and (number <= low if strict_low else number < low))
            bad = bad or (high is not None and number > high)
            if bad:
                raise self.error(i, name, f"expected {expected}, found {value!r}")
            out[i] = number
        return out

    def flags(self, name: str) -> NDArray[np.int8]:
        cells = self.cells(name)
        out = np.full(self.rows, UNKNOWN, np.int8)
        if cells is None:
            return out
        for i, value in enumerate(cells):
            word = value.lower()
            if word in TRUE_WORDS:
                out[i] = 1
            elif word in FALSE_WORDS:
                out[i] = 0
            elif word:
                raise self.error(i, name, f"expected yes or no, found {value!r}")
        return out


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


# --- what was read, and templates -----------------------------------------------------


def summary(scenario: Scenario) -> pd.DataFrame:
    """Customers per region and segment: how many have no dealer, how many the table marks
    as buying from the company today."""
    import pandas as pd

    files = scenario.market.population
    if files is None or files.data is None:
        return pd.DataFrame()
    data = files.data
    regions = [r.name for r in scenario.market.regions]
    segments = [s.name for s in scenario.market.segments]
    if scenario.strategy == "direct":
        no_dealer = np.ones(data.size, bool)
    elif data.dealers is not None:
        no_dealer = data.dealer < 0
    else:  # counted dealers: every customer of a region that has some gets one
        counted = np.array([scenario.dealer_count(name) > 0 for name in regions])
        no_dealer = ~counted[data.region]
    frame = pd.DataFrame(
        {
            "region": np.array(regions, dtype=object)[data.region],
            "segment": np.array(segments, dtype=object)[data.segment],
            "customers": 1,
            "without_dealer": no_dealer.astype(int),
            "buys_from_us": np.isin(data.buys_from, (VIA_DEALER, VIA_REP)).astype(int),
        }
    )
    table = frame.groupby(["region", "segment"], sort=False).sum().reset_index()
    return table.sort_values(["region", "segment"], key=_order(regions, segments)).reset_index(
        drop=True
    )


def _order(regions: list[str], segments: list[str]) -> Any:
    def key(col: pd.Series) -> pd.Series:
        names = regions if col.name == "region" else segments
        return col.map({n: i for i, n in enumerate(names)})

    return key


def counts(scenario: Scenario) -> dict[str, int]:
    """Rows read per table."""
    files = scenario.market.population
    if files is None or files.data is None:
        return {}
    data = files.data
    out = {"customers": data.size}
    if data.dealers is not None:
        out["dealers"] = int(data.dealers.region.size)
    if data.reps is not None:
        out["reps"] = int(data.reps.region.size)
    return out


def history(scenario: Scenario) -> dict[str, float]:
    """What the customer table says about the past: how many rows give a last purchase or
    a renewal month (the rest are drawn), and the claims to date."""
    files = scenario.market.population
    if files is None or files.data is None:
        return {}
    data = files.data
    last = ~np.isnan(data.last_purchase)
    return {
        "last_purchase": int(last.sum()),
        "renewal_month_only": int(((data.renewal_month != UNKNOWN) & ~last).sum()),
        "drawn": int(((data.renewal_month == UNKNOWN) & ~last).sum()),
        "with_claims": int((data.claims_to_date > 0).sum()),
        "claims_to_date": float(data.claims_to_date.sum()),
    }


def template(kind: str) -> pd.DataFrame:
    """An example table with every expected column (required ones first)."""
    if kind not in COLUMNS:
        raise PopulationError(f"unknown table {kind!r}; expected one of {list(COLUMNS)}")
    import pandas as pd

    return pd.DataFrame({c.name: list(c.examples) for c in COLUMNS[kind]})


def describe(kind: str) -> list[tuple[str, bool, str]]:
    """(column, required, meaning) for each expected column of a table."""
    return [(c.name, c.required, c.meaning) for c in COLUMNS[kind]]

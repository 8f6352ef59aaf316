"""What a request will cost, checked before anything is allocated.

A scenario can pass the schema and still ask for more than a machine holds (a million
dealers per region), and a sweep can ask for more runs than anyone can wait for (a grid of
10^9 points). Both are estimated from the settings alone, before any array, design point
or seed exists, and refused with the setting and the estimate when beyond the limit:

- memory: the estimate of the models that run at once (one per worker) plus what the
  results hold, against `CHANNELSIM_MAX_MEMORY` (e.g. `64G`), by default the memory this
  machine has available now;
- runs: design points x replicates, against `CHANNELSIM_MAX_RUNS`, by default 1,000,000
  (a cluster can take more; the planning of 10^6 runs takes about half a minute).

The per-item sizes were measured with tracemalloc (model set-up and three weeks, see
docs/reliability.md) and rounded up by about half.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence

from channelsim.errors import InputError, ScenarioError
from channelsim.scenario.schema import Scenario, numeric_settings

BYTES_PER_CUSTOMER = 160  # measured 106
BYTES_PER_DEALER = 1_000  # measured 686
BYTES_PER_REP = 900  # measured 588
BYTES_PER_WEEK = 4_000  # the weekly accumulator while a model runs
BYTES_PER_RESULT_WEEK = 800  # one replicate's weekly row kept in a results table
BYTES_PER_PLANNED_RUN = 400  # a design point's settings, its seed, its manifest entry
MODEL_OVERHEAD = 2 << 20
DEFAULT_MAX_RUNS = 1_000_000
MEMORY_SHARE = 0.8  # of the memory available now, when no limit is given
# Customer-weeks below which one process beats a pool: the engine simulates about 35
# million a second on one core (a bundled scenario, 51,000 customers x 182 weeks, in
# 0.23-0.28 s), and starting local workers costs about a second (the forkserver imports
# the engine), so a pool pays from about two seconds of simulation.
PARALLEL_WORTHWHILE = 70_000_000


class ResourceError(ScenarioError):
    """A request beyond a limit; the message names the setting, the estimate and the limit."""


def model_bytes(scenario: Scenario) -> int:
    """Estimated peak memory of one model of `scenario` while it runs."""
    regions = [r.name for r in scenario.market.regions]
    dealers = sum(scenario.dealer_count(r) for r in regions)
    customers = sum(scenario.market.customer_counts().values())
    return (
        MODEL_OVERHEAD
        + BYTES_PER_CUSTOMER * customers
        + BYTES_PER_DEALER * dealers
        + BYTES_PER_REP * scenario.reps.headcount * len(regions)
        + BYTES_PER_WEEK * simulated_weeks(scenario)
    )


def simulated_weeks(scenario: Scenario) -> int:
    """The weeks a run simulates and keeps in its weekly series: warm-up and measured."""
    return scenario.warmup() + scenario.weeks


def check_run(
    scenario: Scenario, replicates: int, workers: int = 1, in_memory: bool = True, what: str = ""
) -> int:
    """Refuse a run of `replicates` on `workers` that would not fit; return the estimate.

    `in_memory`: every replicate's weekly series is kept until the end (the Python API);
    the command line streams them to the folder, so only the models in flight count.
    """
    at_once = min(max(1, workers), replicates)
    model = model_bytes(scenario)
    kept = BYTES_PER_RESULT_WEEK * simulated_weeks(scenario) * replicates if in_memory else 0
    total = model * at_once + kept
    limit = memory_limit()
    if total > limit:
        raise ResourceError(
            f"{what or scenario.name}: needs about {_size(total)} of memory "
            f"({_biggest(scenario)}; {_size(model)} per model x {at_once} at once"
            + (f", plus {_size(kept)} of weekly results" if kept else "")
            + f"), more than the limit of {_size(limit)}; "
            + _lower_or_raise("CHANNELSIM_MAX_MEMORY")
        )
    return total


def customer_weeks(scenario: Scenario) -> int:
    """What one run simulates: customers x weeks, warm-up included."""
    return sum(scenario.market.customer_counts().values()) * simulated_weeks(scenario)


def auto_workers(
    scenarios: Sequence[Scenario], replicates: int, in_memory: bool = False, cpus: int = 0
) -> int:
    """How many local workers `replicates` runs of each scenario are worth (`--workers auto`).

    One when the simulation is too short to pay for starting a pool; otherwise one per
    usable core (`cpus`, default this process's), no more than there are runs, and no more
    than fit in memory beside each other. Results never depend on the choice.
    """
    runs = replicates * len(scenarios)
    work = replicates * sum(customer_weeks(s) for s in scenarios)
    cpus = cpus or usable_cpus()
    if cpus < 2 or runs < 2 or work < PARALLEL_WORTHWHILE:
        return 1
    model = max(model_bytes(s) for s in scenarios)
    weeks = max(simulated_weeks(s) for s in scenarios)
    kept = BYTES_PER_RESULT_WEEK * weeks * runs if in_memory else 0
    fit = (memory_limit() - kept) // model
    return int(max(1, min(cpus, runs, fit)))


def workers_for(
    workers: int | str | None,
    scenarios: Sequence[Scenario],
    replicates: int,
    in_memory: bool = False,
) -> int:
    """A worker count: `workers` itself, or `auto_workers` for "auto" (or None: not given)."""
    if workers is None or worker_count(workers) == "auto":
        return auto_workers(scenarios, replicates, in_memory)
    return int(workers)


def worker_count(workers: object) -> int | str:
    """`workers` checked: a whole number from 1, or "auto" in any case."""
    if isinstance(workers, str) and workers.strip().lower() == "auto":
        return "auto"
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise InputError(f"workers: expected a whole number >= 1 or 'auto', found {workers!r}")
    return workers


def usable_cpus() -> int:
    """Cores this process may run on (its affinity mask where the system has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def check_runs(runs: int, points: int, replicates: int, where: str) -> None:
    """Refuse a sweep of more runs than the limit, before any point is made."""
    limit = max_runs()
    if runs > limit:
        raise ResourceError(
            f"{where}: {points:,} design points x {replicates:,} replicates = {runs:,} runs, "
            f"more than the limit of {limit:,} runs (about {_size(runs * BYTES_PER_PLANNED_RUN)}"
            " just to plan them); " + _lower_or_raise("CHANNELSIM_MAX_RUNS")
        )
    need = runs * BYTES_PER_PLANNED_RUN
    if need > memory_limit():
        raise ResourceError(
            f"{where}: planning {runs:,} runs needs about {_size(need)} of memory, more than "
            f"the limit of {_size(memory_limit())}; " + _lower_or_raise("CHANNELSIM_MAX_MEMORY")
        )


def max_runs(environ: Mapping[str, str] | None = None) -> int:
    text = (os.environ if environ is None else environ).get("CHANNELSIM_MAX_RUNS", "").strip()
    if not text:
        return DEFAULT_MAX_RUNS
    try:
        value = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        value = 0
    if value < 1:
        raise ResourceError(f"CHANNELSIM_MAX_RUNS={text!r}: expected a whole number >= 1")
    return value


def memory_limit(environ: Mapping[str, str] | None = None) -> int:
    """CHANNELSIM_MAX_MEMORY (bytes, or with K/M/G/T), else 80% of the memory available now."""
    text = (os.environ if environ is None else environ).get("CHANNELSIM_MAX_MEMORY", "").strip()
    if text:
        return parse_size(text, "CHANNELSIM_MAX_MEMORY")
    return int(available_memory() * MEMORY_SHARE)


def parse_size(text: str, where: str) -> int:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?", text.strip(), re.IGNORECASE)
    if not match:
        raise ResourceError(f"{where}={text!r}: expected a size such as 512M, 16G or 2T")
    power = " KMGT".index(match.group(2).upper() or " ")
    value = int(float(match.group(1)) * 1024**power)
    if value < 1:
        raise ResourceError(f"{where}={text!r}: expected a size above zero")
    return value


def available_memory() -> int:
    """Memory available to new allocations (Linux MemAvailable, else physical memory)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 8 << 30


def _biggest(scenario: Scenario) -> str:
    """The settings that drive the estimate, largest first."""
    regions = [r.name for r in scenario.market.regions]
    customers = sum(scenario.market.customer_counts().values())
    parts: dict[str, int] = {
        f"{customers:,} customers (market.segments.*.customers)": BYTES_PER_CUSTOMER * customers,
        f"{sum(scenario.dealer_count(r) for r in regions):,} dealers (dealers.per_region)": (
            BYTES_PER_DEALER * sum(scenario.dealer_count(r) for r in regions)
        ),
        f"{scenario.reps.headcount * len(regions):,} reps (reps.headcount)": (
            BYTES_PER_REP * scenario.reps.headcount * len(regions)
        ),
        f"{simulated_weeks(scenario):,} weeks (weeks, warmup_weeks)": (
            BYTES_PER_WEEK * simulated_weeks(scenario)
        ),
    }
    ranked = sorted(parts.items(), key=lambda item: -item[1])
    return ", ".join(f"{name}: {_size(size)}" for name, size in ranked[:2])


def _lower_or_raise(variable: str) -> str:
    return f"ask for less, or raise the limit with the environment variable {variable}"


def _size(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB", "PB"):
        if n < 1024 or unit == "PB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:.1f} PB"


def largest_settings(scenario: Scenario, count: int = 3) -> str:
    """`path=value` of the numeric settings of largest magnitude (the suspects of an overflow)."""
    numeric = numeric_settings(scenario)
    ranked = sorted(numeric.items(), key=lambda item: -abs(item[1]))
    return ", ".join(f"{path}={value:g}" for path, value in ranked[:count])

"""Bounded resources: what a request costs is estimated from its settings before anything
is allocated, and a request beyond the limit is refused at once (exit 2) naming the
setting and the estimate; an overflow never ends in a result."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from conftest import SMALL

from channelsim.cli import main
from channelsim.experiments import resources
from channelsim.experiments.replicates import NonFiniteResult, check_finite
from channelsim.experiments.resources import ResourceError
from channelsim.scenario.loading import ScenarioError, deep_merge, validate

FAST = {**SMALL, "weeks": 8}


@pytest.fixture
def small_file(tmp_path: Path) -> Path:
    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump(FAST, sort_keys=False))
    return path


@pytest.fixture(autouse=True)
def a_known_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests do not depend on this machine's free memory."""
    monkeypatch.setenv("CHANNELSIM_MAX_MEMORY", "4G")
    monkeypatch.delenv("CHANNELSIM_MAX_RUNS", raising=False)


def cli(*args: str):
    started = time.process_time()
    result = CliRunner().invoke(main, list(args))
    return result, time.process_time() - started


@pytest.mark.parametrize(
    "setting, limit, named",
    [
        ("dealers.per_region=1000000000", "4G", r"2,000,000,000 dealers \(dealers\.per_region\)"),
        ("market.segments.small.customers=4000000", "1G", r"8,000,120 customers \(market\."),
    ],
)
def test_a_run_too_large_for_memory_is_refused_before_it_starts(
    small_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    setting: str,
    limit: str,
    named: str,
) -> None:
    monkeypatch.setenv("CHANNELSIM_MAX_MEMORY", limit)
    out = tmp_path / "out"
    result, _ = cli("run", str(small_file), "--set", setting, "-n", "2000", "--out", str(out))
    assert result.exit_code == 2, result.output
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.output
    assert "of memory" in result.stderr and "CHANNELSIM_MAX_MEMORY" in result.stderr
    import re

    assert re.search(named, result.stderr), result.stderr
    assert not out.exists()


def test_the_memory_limit_can_be_raised(monkeypatch: pytest.MonkeyPatch, make_scenario) -> None:
    scenario = make_scenario(dealers={"per_region": 10_000_000})
    with pytest.raises(ResourceError):
        resources.check_run(scenario, 10, 2)
    monkeypatch.setenv("CHANNELSIM_MAX_MEMORY", "2T")
    assert resources.check_run(scenario, 10, 2) > 4 << 30


def test_streamed_runs_count_only_the_models_in_flight(make_scenario) -> None:
    scenario = make_scenario(weeks=5200)
    with pytest.raises(ResourceError, match="of weekly results"):
        resources.check_run(scenario, 100_000, 1, in_memory=True)
    assert resources.check_run(scenario, 100_000, 1, in_memory=False) < 1 << 30


@pytest.mark.parametrize("value", ["4G", "512M", "1.5T", "1000000"])
def test_limits_are_read_as_sizes(value: str) -> None:
    assert resources.parse_size(value, "X") > 0


@pytest.mark.parametrize("value", ["lots", "-1G", "0"])
def test_a_bad_limit_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("CHANNELSIM_MAX_MEMORY", value)
    with pytest.raises(ResourceError, match="CHANNELSIM_MAX_MEMORY"):
        resources.memory_limit()


def test_more_regions_than_16_bit_numbering_holds_is_refused(small_raw) -> None:
    raw = deep_merge(small_raw, {"market": {"regions": [{"name": f"r{i}"} for i in range(40_000)]}})
    raw["general_agents"] = {"agents": []}
    raw["strategy"] = "direct"
    with pytest.raises(ScenarioError, match=r"market\.regions: expected at most 32767 item"):
        validate(raw)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--param", "reps.capacity=1:2:1000000000"], "1,000,000,000 values are more than"),
        (
            ["--param", "reps.capacity=" + ",".join(str(i) for i in range(1000)),
             "--param", "pricing.list_price=" + ",".join(str(90 + i / 100) for i in range(1000)),
             "--param", "reps.headcount=" + ",".join(str(i) for i in range(1, 1001))],
            "1,000,000,000 design points x 3 replicates = 3,000,000,000 runs",
        ),
        (
            ["--design", "lhs", "--samples", "1000000000", "--param", "reps.capacity=1:20"],
            "1,000,000,000 design points",
        ),
        (
            ["--design", "sobol", "--samples", "1073741824", "--param", "reps.capacity=1:20"],
            "3,221,225,472 design points",
        ),
    ],
    ids=["a:b:n", "grid of 10^9", "lhs samples", "sobol samples"],
)  # fmt: skip
def test_huge_sweeps_are_refused_at_once(small_file: Path, args: list[str], message: str) -> None:
    result, cpu = cli("sweep", str(small_file), *args, "-n", "3", "-q")
    assert result.exit_code == 2, result.output
    assert message in result.stderr and "CHANNELSIM_MAX_RUNS" in result.stderr
    assert "Traceback" not in result.output
    assert cpu < 30, "nothing of the size asked for may have been made"


def test_the_run_limit_can_be_lowered(monkeypatch: pytest.MonkeyPatch, small_file: Path) -> None:
    monkeypatch.setenv("CHANNELSIM_MAX_RUNS", "3")
    result, _ = cli("sweep", str(small_file), "--param", "reps.capacity=8,12", "-n", "2")
    assert result.exit_code == 2
    assert "2 design points x 2 replicates = 4 runs, more than the limit of 3" in result.stderr


def test_a_large_plan_checks_a_bounded_number_of_points(small_file: Path) -> None:
    """20,000 points: planned without validating each point's scenario one by one."""
    from channelsim.experiments import sweep

    levels = ",".join(str(8 + i / 1000) for i in range(20_000))
    definition = sweep.define(small_file, [f"reps.capacity={levels}"], replicates=1)
    checked = sweep._points_to_check(*_design(definition))
    assert len(checked) <= sweep.MAX_CHECKED + 2
    assert 0 in checked and 19_999 in checked  # the extremes


def _design(definition):
    from channelsim.experiments.designs import make_design

    design = make_design(list(definition.params), "grid", None, 0)
    return design, design.settings()


@pytest.mark.parametrize(
    "settings, named",
    [
        ({"market.segments.large.volume": 1e308}, r"market\.segments\.0\.volume: 1e\+308"),
        ({"pricing.list_price": 1e308, "pricing.wholesale_price": 1e7}, r"list_price: 1e\+308"),
        ({"dealers.fixed_cost": 2e15}, r"dealers\.fixed_cost: 2e\+15"),
    ],
)
def test_settings_large_enough_to_overflow_are_refused_by_the_schema(
    make_scenario, settings, named
) -> None:
    with pytest.raises(ScenarioError, match=named + r" is beyond 1e\+15"):
        make_scenario(weeks=8).with_overrides(settings)


COMMANDS = {
    "validate": [],
    "run": ["-n", "1", "-q"],
    "compare": ["{ok}", "-n", "2", "-q"],
    "sweep": ["--param", "reps.capacity=8,12", "-n", "1", "-q"],
    "optimize": ["--param", "reps.capacity=8:12", "--objective", "company_profit:max"],
    "explore": ["{ok}", "--uncertain", "reps.capacity=8:12", "--samples", "4"],
    "calibrate": ["--observed", "{observed}", "--param", "reps.capacity=8:12"],
}


def test_every_command_refuses_an_overflowing_scenario_with_the_same_line(
    small_file: Path, tmp_path: Path
) -> None:
    huge = tmp_path / "huge.yaml"
    huge.write_text(yaml.safe_dump(deep_merge(FAST, {"pricing": {"list_price": 1e300}})))
    observed = tmp_path / "observed.yaml"
    observed.write_text("targets:\n  revenue: {value: 1000, se: 100}\n")
    lines = {}
    for command, extra in COMMANDS.items():
        extra = [a.format(ok=small_file, observed=observed) for a in extra]
        out = tmp_path / f"out-{command}"
        more = [] if command == "validate" else ["--out", str(out)]
        result, _ = cli(command, str(huge), *extra, *more)
        assert result.exit_code == 2, (command, result.output)
        assert "Traceback" not in result.output and not out.exists()
        (lines[command],) = result.stderr.splitlines()
    text = huge.read_text().splitlines()
    line = 1 + next(i for i, row in enumerate(text) if row.strip().startswith("list_price:"))
    assert set(lines.values()) == {
        f"Error: {huge}, line {line}: pricing.list_price: 1e+300 is beyond 1e+15; numbers that "
        "large overflow double precision in the model's totals"
    }, lines


def test_an_overflow_that_still_happens_is_an_error_never_a_result(make_scenario) -> None:
    """Below the limit the model cannot overflow; the check behind it is tested directly."""
    scenario = make_scenario(weeks=8)
    kpis = {"revenue": float("inf"), "company_profit": float("nan"), "loss_ratio": float("nan")}
    with pytest.raises(NonFiniteResult, match=r"overflowed \(revenue=inf, company_profit=nan\)"):
        check_finite(kpis, scenario, seed=1)
    check_finite({"revenue": 1.0, "loss_ratio": float("nan")}, scenario, seed=1)  # n/a is fine


def test_an_overflowing_run_is_refused_and_writes_nothing(small_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result, _ = cli(
        "run", str(small_file), "-n", "2", "-q", "--out", str(out),
        "--set", "market.segments.large.volume=1e308",
    )  # fmt: skip
    assert result.exit_code == 2
    assert "market.segments.0.volume: 1e+308 is beyond 1e+15" in result.stderr
    assert not out.exists()


def test_a_sweep_over_overflowing_values_is_refused_at_its_plan(small_file: Path) -> None:
    result, _ = cli(
        "sweep", str(small_file), "--param", "market.segments.large.volume=1,1e308", "-n", "1",
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "design point 1" in result.stderr and "is beyond 1e+15" in result.stderr


@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_command_refuses_a_scenario_too_big_for_memory_before_running(
    small_file: Path, tmp_path: Path, command: str
) -> None:
    """Before: optimize tried to allocate 33.5 GiB for 18e9 dealers, calibrate was killed by
    the out-of-memory killer, validate called the file valid."""
    huge = tmp_path / "huge.yaml"
    big = {"name": "huge", "dealers": {"per_region": 3_000_000_000}}
    huge.write_text(yaml.safe_dump(deep_merge(FAST, big)))
    observed = tmp_path / "observed.yaml"
    observed.write_text("targets:\n  revenue: {value: 1000, se: 100}\n")
    extra = [a.format(ok=small_file, observed=observed) for a in COMMANDS[command]]
    out = tmp_path / "out"
    more = [] if command == "validate" else ["--out", str(out)]
    result, cpu = cli(command, str(huge), *extra, *more)
    assert result.exit_code == 2, result.output
    (line,) = result.stderr.splitlines()
    assert "6,000,000,000 dealers (dealers.per_region)" in line and "more than the limit" in line
    assert not out.exists() and cpu < 30


# --- how many workers `auto` chooses --------------------------------------------------


def test_auto_uses_one_process_when_the_runs_are_too_short_to_pay_for_a_pool(
    make_scenario,
) -> None:
    scenario = make_scenario(weeks=8)
    assert resources.customer_weeks(scenario) * 10 < resources.PARALLEL_WORTHWHILE
    assert resources.auto_workers([scenario], 10, cpus=8) == 1


def test_auto_uses_every_core_for_long_runs_but_no_more_workers_than_runs(
    make_scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(resources, "PARALLEL_WORTHWHILE", 1)
    scenario = make_scenario(weeks=8)
    assert resources.auto_workers([scenario], 10, cpus=8) == 8
    assert resources.auto_workers([scenario], 3, cpus=8) == 3
    assert resources.auto_workers([scenario, scenario], 3, cpus=8) == 6  # runs of both
    assert resources.auto_workers([scenario], 10, cpus=1) == 1
    assert resources.auto_workers([scenario], 1, cpus=8) == 1


def test_auto_starts_no_more_workers_than_fit_in_memory(
    make_scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(resources, "PARALLEL_WORTHWHILE", 1)
    scenario = make_scenario(weeks=8)
    per_model = resources.model_bytes(scenario)
    monkeypatch.setenv("CHANNELSIM_MAX_MEMORY", str(3 * per_model + per_model // 2))
    assert resources.auto_workers([scenario], 10, cpus=8) == 3
    resources.check_run(scenario, 10, 3, in_memory=False)  # the choice passes the check


def test_the_work_and_memory_of_a_run_count_its_warm_up(make_scenario) -> None:
    """The warm-up is simulated and its weeks are kept in the weekly series."""
    cold = make_scenario(weeks=10, warmup_weeks=0)
    warm = make_scenario(weeks=10, warmup_weeks=30)
    assert resources.customer_weeks(warm) == 4 * resources.customer_weeks(cold)
    extra = resources.model_bytes(warm) - resources.model_bytes(cold)
    assert extra == 30 * resources.BYTES_PER_WEEK
    kept = resources.check_run(warm, 5, 1) - resources.check_run(cold, 5, 1) - extra
    assert kept == 30 * resources.BYTES_PER_RESULT_WEEK * 5


@pytest.mark.parametrize("given, chosen", [(None, "chosen"), ("auto", "chosen"), (3, 3)])
def test_a_worker_count_is_kept_and_auto_or_nothing_is_chosen(
    make_scenario, given, chosen, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(resources, "auto_workers", lambda *args, **kwargs: "chosen")
    assert resources.workers_for(given, [make_scenario()], 4) == chosen


@pytest.mark.parametrize("given", ["abc", 0, -2, 2.5, True, "", [2]])
def test_a_worker_count_that_is_not_one_says_what_was_expected(given, make_scenario) -> None:
    from channelsim.errors import ChannelsimError

    with pytest.raises(ChannelsimError, match="expected a whole number >= 1 or 'auto'"):
        resources.workers_for(given, [make_scenario()], 4)


def test_auto_is_auto_in_any_case() -> None:
    assert resources.worker_count(" AUTO ") == resources.worker_count("auto") == "auto"


def test_a_sweep_s_auto_count_fits_its_largest_point(
    make_scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The base scenario is small; a point of 5,200 weeks needs all the memory for itself."""
    from channelsim.experiments import sweep

    monkeypatch.setattr(resources, "PARALLEL_WORTHWHILE", 1)
    monkeypatch.setattr(resources, "usable_cpus", lambda: 2)
    definition = sweep.SweepDefinition(
        scenario=make_scenario(weeks=8),
        scenario_file="(test)",
        params=(sweep.parse_spec("weeks", "8,5200"),),
        design="grid",
        samples=None,
        replicates=2,
        seed=1,
        common_seeds=False,
    )
    big = resources.model_bytes(make_scenario(weeks=5200))
    monkeypatch.setenv("CHANNELSIM_MAX_MEMORY", str(big + big // 2))  # one of it at a time
    assert sweep.plan(definition, "auto").workers == 1
    with pytest.raises(sweep.SweepError, match="design point 1"):
        sweep.plan(definition, 2)
    monkeypatch.setenv("CHANNELSIM_MAX_MEMORY", "4G")
    assert sweep.plan(definition, "auto").workers == 2


@pytest.mark.parametrize("command", ["run", "compare", "sweep"])
def test_commands_choose_their_workers_and_record_them(
    small_file: Path, tmp_path: Path, command: str
) -> None:
    """Without --workers: one process for a short job; the manifest says what was used."""
    import json

    other = tmp_path / "other.yaml"
    other.write_text(yaml.safe_dump({**FAST, "name": "other"}, sort_keys=False))
    args = {
        "run": ["run", str(small_file), "-n", "2"],
        "compare": ["compare", str(small_file), str(other), "-n", "2"],
        "sweep": ["sweep", str(small_file), "--param", "dealers.reach=0.2,0.3", "-n", "1"],
    }[command]
    out = tmp_path / "out"
    result, _ = cli(*args, "-q", "--no-charts", "--out", str(out))
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    if command == "sweep":
        assert manifest["sessions"][0]["executor"] == "in-process"
    else:
        assert manifest["workers"] == 1


def test_auto_workers_for_long_runs_give_the_one_process_results(
    small_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    monkeypatch.setattr(resources, "PARALLEL_WORTHWHILE", 1)  # every run is "long"
    monkeypatch.setattr(resources, "usable_cpus", lambda: 2)
    auto, single = tmp_path / "auto", tmp_path / "single"
    for out, extra in ((auto, []), (single, ["--workers", "1"])):
        result, _ = cli(
            "run", str(small_file), "-n", "3", "-q", "--no-charts", "--out", str(out), *extra
        )
        assert result.exit_code == 0, result.output
    assert json.loads((auto / "manifest.json").read_text())["workers"] == 2
    assert json.loads((single / "manifest.json").read_text())["workers"] == 1
    for name in ("kpis.csv", "summary.csv", "timeseries.parquet"):  # to the byte
        assert (auto / name).read_bytes() == (single / name).read_bytes(), name

"""Called from Python (a notebook), `optimize` and `calibrate` print no Optuna log lines,
and leave Optuna's verbosity as the caller had set it."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import optuna
import pytest

import channelsim

ROOT = Path(__file__).resolve().parents[1]
LOGIT = ROOT / "scenarios" / "validation" / "logit.yaml"
PRICES = {"pricing.flattened_price": "0.3:0.8:11", "pricing.list_price": "0.3:0.8:11"}


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def optuna_lines() -> Iterator[list[str]]:
    """Every line Optuna logs, with Optuna at its default verbosity (INFO)."""
    before = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.INFO)
    handler = Lines()
    logger = logging.getLogger("optuna")
    logger.addHandler(handler)
    optuna.create_study().optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=1)
    assert any("Trial 0 finished" in line for line in handler.lines)  # we would hear it
    handler.lines.clear()
    yield handler.lines
    logger.removeHandler(handler)
    optuna.logging.set_verbosity(before)


def test_optimize_logs_nothing_and_restores_the_verbosity(optuna_lines, capfd) -> None:
    capfd.readouterr()
    scenario = channelsim.load_scenario(LOGIT, {"weeks": 4, "market.segments.0.customers": 200})
    channelsim.optimize(
        scenario, PRICES, "company_profit:max", trials=3, replicates=1, confirm=1, batch=2, seed=1
    )
    assert optuna_lines == []
    assert "Trial" not in capfd.readouterr().err
    assert optuna.logging.get_verbosity() == optuna.logging.INFO


def test_calibrate_logs_nothing_and_restores_the_verbosity(optuna_lines, capfd, tmp_path) -> None:
    capfd.readouterr()
    scenario = channelsim.load_scenario(LOGIT, {"weeks": 4, "market.segments.0.customers": 200})
    target = {"targets": {"market_share": {"value": 0.5, "se": 0.05}}}
    channelsim.calibrate(
        scenario,
        target,
        {"pricing.list_price": "0.3:0.8"},
        trials=3,
        replicates=1,
        batch=2,
        profile_points=3,
        seed=1,
        out=tmp_path / "c",
    )
    assert optuna_lines == []
    assert "Trial" not in capfd.readouterr().err
    assert optuna.logging.get_verbosity() == optuna.logging.INFO

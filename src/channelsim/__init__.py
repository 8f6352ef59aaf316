"""channelsim: compare direct, intermediary and parallel sales-channel strategies.

The public API (see docs/api.md) is imported on first use, so `import channelsim` and
`channelsim --version` stay fast:

    import channelsim
    results = channelsim.run(channelsim.load_scenario("scenarios/parallel.yaml"), replicates=2)
"""

from __future__ import annotations

TYPE_CHECKING = False  # not typing's: the `channelsim` command imports this module before
# it can handle Ctrl-C (channelsim.__main__), so it imports nothing at all

if TYPE_CHECKING:
    from channelsim.api import (
        CalibrationResults,
        ChannelsimError,
        Comparison,
        ExploreResults,
        OptimizeResults,
        RunResults,
        Scenario,
        ScenarioError,
        SweepResults,
        calibrate,
        combine,
        compare,
        explore,
        load_scenario,
        optimize,
        report_html,
        run,
        save,
        sweep,
        workbook,
    )

__all__ = [
    "CalibrationResults",
    "ChannelsimError",
    "Comparison",
    "ExploreResults",
    "OptimizeResults",
    "RunResults",
    "Scenario",
    "ScenarioError",
    "SweepResults",
    "calibrate",
    "combine",
    "compare",
    "explore",
    "load_scenario",
    "optimize",
    "report_html",
    "run",
    "save",
    "sweep",
    "workbook",
]


def __getattr__(name: str) -> object:
    if name == "__version__":  # read when asked: importlib.metadata takes 25 ms to import
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("channelsim")
        except PackageNotFoundError:  # running from a source tree without installation
            return "0.0.0"
    if name in __all__:
        from channelsim import api

        return getattr(api, name)
    raise AttributeError(f"module 'channelsim' has no attribute {name!r}")

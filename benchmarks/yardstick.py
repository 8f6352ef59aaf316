"""The yardstick for whole-command timings: a plain Mesa model anyone can reproduce.

10,000 `mesa.Agent`s, each doing a few float operations per step, 100 steps, no space.
`benchmarks/commands.py` runs it in a fresh process beside channelsim's commands, so their
times are reported as ratios to it and stay comparable across machines and loads.
"""

from __future__ import annotations

import mesa

AGENTS = 10_000
STEPS = 100


class Walker(mesa.Agent):
    def __init__(self, model: mesa.Model) -> None:
        super().__init__(model)
        self.wealth = 1.0
        self.rate = self.random.random()

    def step(self) -> None:
        self.wealth = self.wealth * (1.0 + 0.01 * self.rate) - 0.001 * self.rate


class Yardstick(mesa.Model):
    def __init__(self, seed: int = 1) -> None:
        super().__init__(rng=seed)
        Walker.create_agents(self, AGENTS)

    def step(self) -> None:
        self.agents.do("step")


if __name__ == "__main__":
    model = Yardstick()
    for _ in range(STEPS):
        model.step()

"""Mesa agents as named views onto the model's state arrays.

The model decides in vectorised batches over arrays (a million customers cannot be looped
over weekly in Python), so each agent holds only its index and reads its state from the
model. This keeps Mesa's agent registry, `agents_by_type` and AgentSet tools usable for
inspection and data collection, with one source of truth for every number. An agent's
model is a `state.World` (the model's arrays), so this module does not import the model.
"""

from __future__ import annotations

import mesa

from channelsim.model.channels import CHANNELS
from channelsim.model.state import World


class SalesRep(mesa.Agent):
    """A territory slot of the rep force; the person in it may quit and be replaced."""

    def __init__(self, model: World, slot: int) -> None:
        super().__init__(model)
        self.slot = slot

    @property
    def region(self) -> str:
        return self.model.region_names[self.model.reps.region[self.slot]]

    @property
    def role(self) -> str:
        return "channel_manager" if self.model.reps.is_manager[self.slot] else "seller"

    @property
    def active(self) -> bool:
        return bool(self.model.reps.occupied[self.slot])

    @property
    def quota(self) -> float:
        return float(self.model.reps.quota[self.slot])

    @property
    def pay_to_date(self) -> float:
        return float(self.model.reps.pay_total[self.slot])


class Dealer(mesa.Agent):
    """A dealer in one region, supplied by its region's general agent (or the company)."""

    def __init__(self, model: World, index: int) -> None:
        super().__init__(model)
        self.index = index

    @property
    def region(self) -> str:
        return self.model.region_names[self.model.dealers.region[self.index]]

    @property
    def active(self) -> bool:
        return bool(self.model.dealers.active[self.index])

    @property
    def effort(self) -> float:
        return float(self.model.dealers.effort[self.index])

    @property
    def dissatisfaction(self) -> float:
        return float(self.model.dealers.dissatisfaction[self.index])

    @property
    def profit_to_date(self) -> float:
        return float(self.model.dealers.profit_total[self.index])


class GeneralAgent(mesa.Agent):
    """A master distributor that buys from the company and wholesales to its regions' dealers."""

    def __init__(self, model: World, index: int, name: str) -> None:
        super().__init__(model)
        self.index = index
        self.name = name

    @property
    def margin_to_date(self) -> float:
        return float(self.model.general_agent_margin[self.index])


class Customer(mesa.Agent):
    """One customer, made on request by the model's `customer` method for inspection."""

    def __init__(self, model: World, index: int) -> None:
        super().__init__(model)
        self.index = index

    @property
    def segment(self) -> str:
        return self.model.segments.names[self.model.population.segment[self.index]]

    @property
    def region(self) -> str:
        return self.model.region_names[self.model.population.region[self.index]]

    @property
    def value(self) -> float:
        return float(self.model.population.value[self.index])

    @property
    def incumbent(self) -> str | None:
        code = int(self.model.population.incumbent[self.index])
        return CHANNELS[code] if code >= 0 else None

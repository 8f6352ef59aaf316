"""The simulation: customer arrays, agents, the weekly stages, rules and metrics."""

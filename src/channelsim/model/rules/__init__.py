"""Pure business rules: pricing, commission, engagement, sales force and dealer behaviour.

No Mesa and no randomness in here: each rule takes numbers or arrays and returns numbers
or arrays, so it can be tested on its own and reused by the model and the validators.
"""

"""The one numbering of the channels (and sellers) used everywhere in the model.

A customer's incumbent, a purchase choice, a large account's registered owner and the
columns of every customers-by-channels array use these codes.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

CHANNELS = ("dealer", "rep", "online", "telesales", "competitor", "none")
DEALER, REP, ONLINE, TELESALES, COMPETITOR, NONE = range(len(CHANNELS))
# No channel: a customer who buys from no one, an account nobody has registered.
NO_ONE = -1


def is_ours(codes: NDArray) -> NDArray[np.bool_]:
    """Whether each channel code is one of the company's channels (dealer to telesales)."""
    return (codes >= DEALER) & (codes <= TELESALES)

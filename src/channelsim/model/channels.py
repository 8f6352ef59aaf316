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


def count_ours(codes: NDArray) -> int:
    """How many channel codes are the company's channels: `is_ours(codes).sum()` in one pass
    over int8 codes (read as unsigned bytes, NO_ONE is 255 and the company's are the lowest)."""
    if codes.dtype == np.int8:
        return int(np.count_nonzero(codes.view(np.uint8) <= TELESALES))
    return int(np.count_nonzero(is_ours(codes)))

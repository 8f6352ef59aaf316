"""Rules of engagement: who may quote a large account when a rep and a dealer both reach it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from channelsim.model.channels import DEALER, NO_ONE, REP

# Rules under which dealers tell reps about the large accounts they are working on.
SHARING_RULES = frozenset({"rep_assists_dealer", "deal_registration"})


@dataclass(frozen=True)
class Quoting:
    """Which of the two may quote each account, and whether the two collide."""

    rep_quotes: NDArray[np.bool_]
    dealer_quotes: NDArray[np.bool_]
    conflict: NDArray[np.bool_]
    assisted: NDArray[np.bool_]


def who_quotes(
    rule: str,
    rep_ready: NDArray[np.bool_],
    dealer_reached: NDArray[np.bool_],
    registered_owner: NDArray[np.int8] | None = None,
) -> Quoting:
    """Apply an engagement rule to large accounts.

    `registered_owner` (REP, DEALER or NO_ONE: the channel codes of channels.py) is only
    read by `deal_registration`.
    Under `rep_assists_dealer` a ready rep hands the account to the dealer (who then
    counts as having reached it) and the sale is booked through the dealer.
    """
    rep_ready = np.asarray(rep_ready, dtype=bool)
    dealer_reached = np.asarray(dealer_reached, dtype=bool)
    none = np.zeros_like(rep_ready)
    if rule == "open":
        both = rep_ready & dealer_reached
        return Quoting(rep_ready, dealer_reached, both, none)
    if rule == "rep_only":
        return Quoting(rep_ready, none, none, none)
    if rule == "dealer_only":
        return Quoting(none, dealer_reached, none, none)
    if rule == "rep_assists_dealer":
        return Quoting(none, dealer_reached | rep_ready, none, rep_ready)
    if rule == "deal_registration":
        if registered_owner is None:
            raise ValueError("deal_registration needs the registered owner of each account")
        owner = np.asarray(registered_owner)
        rep = rep_ready & (owner != DEALER)
        dealer = dealer_reached & (owner != REP)
        return Quoting(rep, dealer, none, none)
    raise ValueError(f"unknown engagement rule {rule!r}")


def register(
    owner: NDArray[np.int8],
    expires: NDArray[np.int32],
    week: int,
    rep_first: NDArray[np.int32],
    dealer_first: NDArray[np.int32],
    tie_to_rep: NDArray[np.bool_],
    hold_weeks: int,
) -> tuple[NDArray[np.int8], NDArray[np.int32]]:
    """Deal registration: the first to reach an account owns it for `hold_weeks`.

    `rep_first`/`dealer_first` are the weeks each first reached the account in this
    buying window (a large sentinel when it did not). Expired registrations are cleared.
    """
    owner = np.where(expires < week, NO_ONE, owner).astype(np.int8)
    unowned = owner == NO_ONE
    rep_reached = rep_first < np.iinfo(np.int32).max
    dealer_reached = dealer_first < np.iinfo(np.int32).max
    rep_wins = rep_reached & (
        ~dealer_reached | (rep_first < dealer_first) | ((rep_first == dealer_first) & tie_to_rep)
    )
    dealer_wins = dealer_reached & ~rep_wins
    new_owner = np.where(rep_wins, REP, np.where(dealer_wins, DEALER, NO_ONE)).astype(np.int8)
    claim = unowned & (new_owner != NO_ONE)
    owner = np.where(claim, new_owner, owner).astype(np.int8)
    expires = np.where(claim, week + hold_weeks, expires).astype(np.int32)
    return owner, expires

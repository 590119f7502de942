"""The typed bundles the debts kernel ``_checks`` takes, instead of 32 positional
arguments: the debt book the module owns, the lender's prices, the debtors' arrays, the
debtor lists' costs and the households.

They are ``NamedTuple``s, which Numba compiles as tuples (fields by position, no copy):
the kernel unpacks them once at its top, so its body and its results are unchanged.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class DebtBook(NamedTuple):
    """Per person, owned by the debts module (the kernel writes them)."""

    debt: np.ndarray  # outstanding debt
    stage: np.ndarray  # none, loan, judgment, loan arrears, judgment arrears
    due: np.ndarray  # next decision day
    able_now: np.ndarray  # able to pay at the last decision point
    assets: np.ndarray  # liquid assets when the debt was opened
    opened: np.ndarray  # day the debt was opened
    judged: np.ndarray  # day of the judgment
    episode: np.ndarray  # judgment episode flags
    accrued: np.ndarray  # day interest was last added


class LoanPrices(NamedTuple):
    """The lender's price: each person's terms and the APR of each term (empty: no lender)."""

    terms: np.ndarray
    apr_of: np.ndarray


class Debtors(NamedTuple):
    """Per person, read: means, character and what they perceive."""

    income: np.ndarray
    honesty: np.ndarray
    aware: np.ndarray  # people.informed
    pd: np.ndarray  # perceived detection, per slot
    pd_day: np.ndarray  # the day it was last learned
    ps: np.ndarray  # perceived sanction multiplier
    cell: np.ndarray  # group × region cell, for the counts


class ListCosts(NamedTuple):
    """What staying on a debtor list costs (empty ``listed``: no lists in the run)."""

    listed: np.ndarray  # list membership bits, per person
    until: np.ndarray  # [list row, person]: the day the listing ends
    debtor_codes: np.ndarray  # codes of the lists that hold debtors
    debtor_rows: np.ndarray  # their rows in ``until`` (code − the lowest list code)
    income_share: np.ndarray  # per membership mask: share of income the measures take
    forgone: np.ndarray  # per membership mask: money forgone per day


class Households(NamedTuple):
    """Household membership (CSR), for kin support."""

    offsets: np.ndarray
    members: np.ndarray
    household: np.ndarray  # each person's household

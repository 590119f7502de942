"""The registry of module classes: every mechanism scslab can switch on."""

from __future__ import annotations

from functools import cache


@cache
def module_classes() -> dict[str, type]:
    """Name → class for every registered module (imported lazily: they pull in Numba)."""
    from scslab.modules.appeals import AppealFiling, Appeals
    from scslab.modules.attitudes import Attitudes
    from scslab.modules.behaviour import Behaviour
    from scslab.modules.checkpoints import Watchlist
    from scslab.modules.core_metrics import CoreMetrics
    from scslab.modules.credit_bureau import CreditBureau, CreditFurnishers
    from scslab.modules.debts import Debts
    from scslab.modules.evaluations import Evaluations
    from scslab.modules.firms import CorporateCredit, FirmInspection, FirmMetrics, Firms
    from scslab.modules.harm import Harm
    from scslab.modules.learning import Learning
    from scslab.modules.lending import Lender, LoanApplications
    from scslab.modules.lists import Lists
    from scslab.modules.market import Market, MarketComplaints, MarketRegistry
    from scslab.modules.officials import CentralAuthority, OfficialAudits, Officials
    from scslab.modules.records import DossierModule
    from scslab.modules.sanctions import Sanctions
    from scslab.modules.scoring import Scoring
    from scslab.modules.sources import Sources
    from scslab.modules.surveillance import Surveillance
    from scslab.modules.surveillance_metrics import SurveillanceMetrics

    classes = (
        Behaviour, Debts, AppealFiling, Sources, DossierModule, Evaluations, Scoring, Lists,
        Sanctions, Appeals, Learning, CoreMetrics, Harm, Surveillance, Watchlist,
        SurveillanceMetrics,
        Market, MarketComplaints, MarketRegistry, Firms, FirmInspection, CorporateCredit,
        FirmMetrics, Officials, OfficialAudits, CentralAuthority, CreditFurnishers,
        CreditBureau, Lender, LoanApplications, Attitudes,
    )
    return {cls.name: cls for cls in classes}

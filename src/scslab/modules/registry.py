"""The registry of module classes: every mechanism scslab can switch on."""

from __future__ import annotations

from functools import cache


@cache
def module_classes() -> dict[str, type]:
    """Name → class for every registered module (imported lazily: they pull in Numba)."""
    from scslab.modules.apparatus.appeals import AppealFiling, Appeals
    from scslab.modules.apparatus.dossier import DossierModule
    from scslab.modules.apparatus.evaluations import Evaluations
    from scslab.modules.apparatus.lists import Lists
    from scslab.modules.apparatus.officials import CentralAuthority, OfficialAudits, Officials
    from scslab.modules.apparatus.sanctions import Sanctions
    from scslab.modules.apparatus.scoring import Scoring
    from scslab.modules.apparatus.sources import Sources
    from scslab.modules.economy.credit_bureau import CreditBureau, CreditFurnishers
    from scslab.modules.economy.debts import Debts
    from scslab.modules.economy.firms import CorporateCredit, FirmInspection, FirmMetrics, Firms
    from scslab.modules.economy.lending import Lender, LoanApplications
    from scslab.modules.economy.market import Market, MarketComplaints, MarketRegistry
    from scslab.modules.observers.core_metrics import CoreMetrics
    from scslab.modules.observers.harm import Harm
    from scslab.modules.observers.surveillance_metrics import SurveillanceMetrics
    from scslab.modules.people.attitudes import Attitudes
    from scslab.modules.people.behaviour import Behaviour
    from scslab.modules.people.learning import Learning
    from scslab.modules.sensing.surveillance import Surveillance
    from scslab.modules.sensing.watchlist import Watchlist

    classes = (
        Behaviour, Debts, AppealFiling, Sources, DossierModule, Evaluations, Scoring, Lists,
        Sanctions, Appeals, Learning, CoreMetrics, Harm, Surveillance, Watchlist,
        SurveillanceMetrics,
        Market, MarketComplaints, MarketRegistry, Firms, FirmInspection, CorporateCredit,
        FirmMetrics, Officials, OfficialAudits, CentralAuthority, CreditFurnishers,
        CreditBureau, Lender, LoanApplications, Attitudes,
    )
    return {cls.name: cls for cls in classes}

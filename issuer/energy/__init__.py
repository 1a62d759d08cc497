"""Energy arithmetic for Perseus credentials: the domain model and exact (Decimal) calculations.

Start with `model` (what a credential states), then the arithmetic: `registers` (reads → consumption),
`gas` (volume → kWh), `intervals` (half-hours → local daily/monthly totals and completeness),
`reconcile`, `tariffs` (cost and export income), `emissions`; `mpan` validates meter identifiers and
`factors` loads the published figures (emission factors, calorific values) from `data/`.
"""

from .errors import (
    CheckDigitError,
    FactorNotFoundError,
    InputDataError,
    IntervalOrderError,
    OverlappingIntervalsError,
    PeriodError,
    RegisterDeltaError,
    TariffError,
    UnknownUnitError,
)
from .model import *  # noqa: F403 - the model is the package's public surface
from .model import __all__ as _model_all

__all__ = [
    "CheckDigitError",
    "FactorNotFoundError",
    "InputDataError",
    "IntervalOrderError",
    "OverlappingIntervalsError",
    "PeriodError",
    "RegisterDeltaError",
    "TariffError",
    "UnknownUnitError",
    *_model_all,
]

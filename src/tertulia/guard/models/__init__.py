from tertulia.guard.models.holds import GuardHold, HoldCause, HoldState
from tertulia.guard.models.incidents import Incident, IncidentEvent, IncidentState, IncidentStep
from tertulia.guard.models.memory import DeviceSource, ItemKind, KnownDevice, KnownDomain, OutgoingEvent
from tertulia.guard.models.settings import THRESHOLDS, GuardSettings, Sensitivity

__all__ = [
    "THRESHOLDS",
    "DeviceSource",
    "GuardHold",
    "GuardSettings",
    "HoldCause",
    "HoldState",
    "Incident",
    "IncidentEvent",
    "IncidentState",
    "IncidentStep",
    "ItemKind",
    "KnownDevice",
    "KnownDomain",
    "OutgoingEvent",
    "Sensitivity",
]

from tertulia.crisis.models.alerts import Alert, AlertNotice, AlertState, EscalationStep, Medium
from tertulia.crisis.models.crises import (
    ChecklistItem,
    Crisis,
    CrisisRole,
    CrisisRoleKind,
    CrisisState,
    TimelineEntry,
    TimelineKind,
)
from tertulia.crisis.models.detection import Bucket, Metric, Sensitivity, Surge, Watch, WatchKind
from tertulia.crisis.models.playbooks import (
    DecisionRule,
    HoldingStatement,
    Playbook,
    PlaybookContact,
    PlaybookStep,
    RuleKind,
)

__all__ = [
    "Alert",
    "AlertNotice",
    "AlertState",
    "Bucket",
    "ChecklistItem",
    "Crisis",
    "CrisisRole",
    "CrisisRoleKind",
    "CrisisState",
    "DecisionRule",
    "EscalationStep",
    "HoldingStatement",
    "Medium",
    "Metric",
    "Playbook",
    "PlaybookContact",
    "PlaybookStep",
    "RuleKind",
    "Sensitivity",
    "Surge",
    "TimelineEntry",
    "TimelineKind",
    "Watch",
    "WatchKind",
]

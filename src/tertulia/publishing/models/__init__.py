from tertulia.publishing.models.approvals import (
    ApprovalDecision,
    ApprovalStep,
    ApprovalWorkflow,
    Decision,
    StepMode,
    WorkflowKind,
)
from tertulia.publishing.models.ledger import (
    AttemptOutcome,
    DeliveryAttempt,
    DeliveryTarget,
    ErrorKind,
    TargetState,
)
from tertulia.publishing.models.media import MediaAsset, Rendition
from tertulia.publishing.models.posts import Post, PostComment, PostMedia, PostState, Variant
from tertulia.publishing.models.schedule import ChannelPause, Pause, QueueSlot

__all__ = [
    "ApprovalDecision",
    "ApprovalStep",
    "ApprovalWorkflow",
    "AttemptOutcome",
    "ChannelPause",
    "Decision",
    "DeliveryAttempt",
    "DeliveryTarget",
    "ErrorKind",
    "MediaAsset",
    "Pause",
    "Post",
    "PostComment",
    "PostMedia",
    "PostState",
    "QueueSlot",
    "Rendition",
    "StepMode",
    "TargetState",
    "Variant",
    "WorkflowKind",
]

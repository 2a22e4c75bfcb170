"""The sandbox network's own tables (app label `sandbox`).

Nothing outside `tertulia.connectors.sandbox` imports these: the rest of
Tertulia reaches the sandbox through its connector, like any other network.
"""

from tertulia.connectors.sandbox.models.accounts import (
    SandboxAccount,
    SandboxBlock,
    SandboxFollow,
    SandboxMute,
)
from tertulia.connectors.sandbox.models.content import (
    PostKind,
    SandboxLike,
    SandboxMedia,
    SandboxMention,
    SandboxMessage,
    SandboxPost,
    SandboxRepost,
)
from tertulia.connectors.sandbox.models.inbound import InboundEventKind, SandboxInboundEvent
from tertulia.connectors.sandbox.models.limits import RateBucket, SandboxRateCounter
from tertulia.connectors.sandbox.models.simulation import SandboxCrisis, SandboxSimulation

__all__ = [
    "InboundEventKind",
    "PostKind",
    "RateBucket",
    "SandboxAccount",
    "SandboxBlock",
    "SandboxCrisis",
    "SandboxFollow",
    "SandboxInboundEvent",
    "SandboxLike",
    "SandboxMedia",
    "SandboxMention",
    "SandboxMessage",
    "SandboxMute",
    "SandboxPost",
    "SandboxRateCounter",
    "SandboxRepost",
    "SandboxSimulation",
]

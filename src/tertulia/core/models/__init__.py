from tertulia.core.models.audit import AuditChain, AuditEntry
from tertulia.core.models.brand import Brand, Competitor, Objective
from tertulia.core.models.channel import Channel, ChannelOperator, ChannelStatus
from tertulia.core.models.contact import Contact, ContactHandle
from tertulia.core.models.organization import BrandAccess, Membership, Organization, Role
from tertulia.core.models.user import User

__all__ = [
    "AuditChain",
    "AuditEntry",
    "Brand",
    "BrandAccess",
    "Channel",
    "ChannelOperator",
    "ChannelStatus",
    "Competitor",
    "Contact",
    "ContactHandle",
    "Membership",
    "Objective",
    "Organization",
    "Role",
    "User",
]

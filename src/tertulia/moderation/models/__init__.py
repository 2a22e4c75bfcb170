from tertulia.moderation.models.action import ModerationAction
from tertulia.moderation.models.rule import ModerationRule

__all__ = ["ModerationAction", "ModerationRule"]

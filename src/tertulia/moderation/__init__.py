"""The moderation policy: a brand's rules for new messages (hide, delete, block, escalate, assign, tag,
auto-reply), the guardrails no rule can override, manual moderation with a second person's approval,
and the log of every moderation action. See docs/moderation.md."""

"""What no rule and no single person can do (seed 004: "no borrar los comentarios negativos"; the
influential blogger the client wanted blocked).

Applied to every planned network action, automatic or by hand, before anything happens:

automatic (a rule asked)
  - a complaint is never hidden or deleted: refused, and the refusal is logged with its reason;
  - an important author (reach at least the brand's threshold, a known customer, or VIP) is never
    blocked or deleted: the conversation is escalated to a person instead;
  - someone complaining is never blocked: escalated instead (a complaint is answered, not silenced).

by hand (a person asked)
  - deleting or blocking an important author, or deleting or blocking over a complaint, waits for a
    second person's approval (`tertulia.moderation.actions.manual.approve`); the one who asked can
    never approve it. Hiding and showing again are a person's call and happen at once.

Pure: no database, no network. The dry run uses it exactly as ingestion does.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.utils.translation import gettext as _

from tertulia.inbox.models import Intent
from tertulia.moderation.authors import Context
from tertulia.moderation.choices import ActionType


class Outcome(StrEnum):
    ALLOW = "allow"
    REFUSE = "refuse"
    ESCALATE_INSTEAD = "escalate_instead"
    NEEDS_APPROVAL = "needs_approval"


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    reason: str = ""  # why a guardrail stepped in, for the log; "" when it did not


ALLOW = Verdict(Outcome.ALLOW)
SILENCING = frozenset({ActionType.DELETE, ActionType.BLOCK})


def check(action_type: str, *, automatic: bool, intent: str, context: Context) -> Verdict:
    complaint = intent == Intent.COMPLAINT
    if automatic:
        return _automatic(action_type, complaint, context)
    return _manual(action_type, complaint, context)


def _automatic(action_type: str, complaint: bool, context: Context) -> Verdict:
    if action_type == ActionType.BLOCK and context.important:
        return Verdict(
            Outcome.ESCALATE_INSTEAD,
            _(
                "An important author (%(why)s) is never blocked automatically; "
                "the conversation was escalated to a person instead."
            )
            % {"why": context.why_important()},
        )
    if action_type == ActionType.DELETE and context.important:
        return Verdict(
            Outcome.ESCALATE_INSTEAD,
            _(
                "A message of an important author (%(why)s) is never deleted automatically; "
                "the conversation was escalated to a person instead."
            )
            % {"why": context.why_important()},
        )
    if complaint and action_type == ActionType.HIDE:
        return Verdict(Outcome.REFUSE, _("A complaint is never hidden automatically: it is answered."))
    if complaint and action_type == ActionType.DELETE:
        return Verdict(Outcome.REFUSE, _("A complaint is never deleted automatically: it is answered."))
    if complaint and action_type == ActionType.BLOCK:
        return Verdict(
            Outcome.ESCALATE_INSTEAD,
            _("Someone complaining is never blocked automatically; the conversation was escalated instead."),
        )
    return ALLOW


def _manual(action_type: str, complaint: bool, context: Context) -> Verdict:
    if action_type not in SILENCING:
        return ALLOW
    if context.important:
        return Verdict(
            Outcome.NEEDS_APPROVAL,
            _("The author is important (%(why)s): a second person must approve.")
            % {"why": context.why_important()},
        )
    if complaint:
        return Verdict(Outcome.NEEDS_APPROVAL, _("The message is a complaint: a second person must approve."))
    return ALLOW

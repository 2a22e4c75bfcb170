"""Everything a person (or a rule) does to conversations: plain functions, audited, live.

Callers check who may do it (tertulia.inbox.access) before calling; the functions check what
may be done (a snooze needs a time, an assignee must be able to operate the channel).
"""

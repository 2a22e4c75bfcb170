"""The hijack guard: outgoing posts and replies are checked before they leave; a suspicious one waits
for a second person. And the "compromised account" action with its incident checklist.

See docs/hijack-guard.md.
"""

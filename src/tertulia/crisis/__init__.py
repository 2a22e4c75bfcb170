"""Crisis: detect a surge early, alert and escalate, switch a brand into crisis mode, run its playbook,
and write the report at the end (issue 8; docs/crisis.md)."""

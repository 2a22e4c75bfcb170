"""Business logic for the core domain, as plain functions (Zulip's actions layer).

Views and API endpoints parse input, check permission and call one of these;
every function that changes data records it in the audit trail in the same
transaction, so a change and its audit entry land together or not at all.
"""

"""Organizations, brands, people and roles, channels, contacts and the audit trail."""

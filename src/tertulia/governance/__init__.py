"""Governance: e-mail, invitations, one-step offboarding, the access review and backup coverage."""

"""Users, roles, sessions, tokens and the audit log."""

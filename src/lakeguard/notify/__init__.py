"""Notifications: chat robots, webhooks and e-mail, fed from the outbox (docs/notify.md)."""

"""Storage shared by every domain: the declarative base, sessions and migrations."""

"""Patrol: deployment per time slot, and compliance from positions."""

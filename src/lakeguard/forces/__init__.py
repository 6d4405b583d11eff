"""The units that can be dispatched: kinds, capabilities, status, positions, deployment."""

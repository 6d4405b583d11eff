"""Incidents: intake, response plans, recommendation, dispatch, timeline and metrics."""

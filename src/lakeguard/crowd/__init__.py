"""The smart-control net: occupancy per area, forecasts, capacity alerts and emergency plans."""

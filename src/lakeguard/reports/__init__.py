"""Reports: the command room's figures (response times, patrol compliance)."""

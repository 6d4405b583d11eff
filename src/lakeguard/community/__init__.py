"""Community policing: communities, police–resident liaison groups, residents' cases."""

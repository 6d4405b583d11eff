"""The digital twin: a simulated venue day played through LakeGuard's public interfaces.

The engines here are pure (plain data in, plain data out, time as seconds since the twin
day's local midnight, randomness from a seeded generator):

- ``visitors``: people arriving, walking their itineraries and leaving (the truth);
- ``sensors``: what each sensor in the scenario would report about that truth;
- ``incidents``: incidents arising in proportion to exposure;
- ``units``: units patrolling, reporting positions, travelling to incidents and back.

``driver`` plays them against a running LakeGuard over HTTP (or an embedded one in-process)
and ``report`` turns what the system recorded into the day's report.
"""

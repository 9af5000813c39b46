"""Use cases: thin functions joining the rules, the database and a calendar provider.

Each opens its own units of work, so that no database transaction is held open across a
provider call, and each takes ``now`` from its caller.
"""

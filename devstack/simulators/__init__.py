"""Stand-ins for the outside services the product talks to, for tests, the demo and the benchmarks.

Each follows its vendor's published API document, checks that callers follow it too, and can be
told to misbehave (fail, slow down, drop a session) so the failure paths get exercised.
"""

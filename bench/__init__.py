"""SafeSphere benchmarks: ``python -m bench`` (``make bench``) rewrites docs/BENCHMARKS.md and its plots.

Every benchmark starts its own server with a user's default settings, drives it from a separate
open-loop load-generator process over loopback, and reports results next to the framework's ceiling
(a no-op FastAPI app on the same server settings) measured in the same run.
"""

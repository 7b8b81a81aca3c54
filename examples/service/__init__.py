"""The reference service: a small aiohttp app whose latency, CPU work, concurrency limit and
stalls are configurable, so that perf suites have a target with a known behaviour and a knee.

Run it with `python -m perfenv.examples.service --port 0`; it prints one line,
`listening on http://127.0.0.1:PORT`, and nothing else on stdout.
"""

from perfenv.examples.service.app import ServiceConfig, build_app, serve

__all__ = ["ServiceConfig", "build_app", "serve"]

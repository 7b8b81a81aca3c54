"""Generator-side code: runs only inside the Locust processes (it imports Locust and gevent).

`locustfile.py` is what Locust is started with (`locust -f .../locustfile.py`); `run.py` executes
and measures one process's share of the schedule; `senders.py` is what one arrival does.
Nothing under this package may be imported by the CLI process.
"""

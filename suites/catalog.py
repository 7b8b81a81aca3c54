"""An example locustfile for `locustfile: suites/catalog.py`: one task iteration is one arrival.

perfenv schedules the arrivals (open model) and measures each from its scheduled send time;
the file only says what one arrival does. FastHttpUser is what perfenv's engine drives.
"""

from __future__ import annotations

import random

from locust import FastHttpUser, task


class CatalogUser(FastHttpUser):
    @task(5)
    def browse(self) -> None:
        self.client.get("/items", name="GET /items")

    @task(1)
    def item(self) -> None:
        self.client.get(f"/items?offset={random.randrange(100)}", name="GET /items?offset")

    @task(1)
    def health(self) -> None:
        self.client.get("/health", name="GET /health")

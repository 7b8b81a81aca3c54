"""What one arrival does: a request of the built-in mix, or a task iteration of a locustfile.

A locustfile runs as written, with one change the open model makes: one arrival is one
iteration of the user's loop. For a task function that is one call; for a TaskSet or a
SequentialTaskSet it is a whole journey: every task of a sequential set once, in order (nested
sets as journeys of their own); as many weighted picks as a random set has tasks, or until it
calls `interrupt()`. The `wait_time` between the tasks of a journey is honoured (think time
inside the iteration); the one between iterations is replaced by the arrival schedule."""

from __future__ import annotations

import inspect
import random
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import requests
from locust.contrib.fasthttp import FastHttpUser
from locust.exception import InterruptTaskSet, RescheduleTask, StopUser
from locust.user.sequential_taskset import SequentialTaskSet
from locust.user.task import DefaultTaskSet, TaskSet

NO_REQUEST = "(arrival)"  # endpoint of an arrival failing outside any request it made
_IGNORED = (StopUser, InterruptTaskSet, RescheduleTask)  # a task's own way to end its iteration

Unmeasured = Callable[[], AbstractContextManager[None]]  # requests inside it are not arrivals


def _no_redirects(*_args: Any, **_kwargs: Any) -> Iterator[Any]:
    """requests.Session.resolve_redirects that follows nothing."""
    return iter(())


class BuiltinMix:
    """The suite's `requests:` mix, sent through one FastHttpUser's client pool."""

    def __init__(
        self, plan: dict[str, Any], environment: Any, slots: int, rng: random.Random
    ) -> None:
        class MixUser(FastHttpUser):
            host = plan["base_url"]
            network_timeout = connection_timeout = plan["timeout_s"]
            concurrency = slots
            max_redirects = 0  # a 3xx is the outcome, never followed

        self.user = MixUser(environment)
        self.specs = plan["requests"]
        self.weights = [spec["weight"] for spec in self.specs]
        self.rng = rng

    def endpoint_of(self, request_type: str, name: str) -> str:
        return name  # the request's name is already the spec's endpoint

    def pick(self) -> dict[str, Any]:
        return self.rng.choices(self.specs, self.weights)[0]  # type: ignore[no-any-return]

    def expired_endpoint(self) -> str:
        return str(self.pick()["endpoint"])

    def send(self, unmeasured: Unmeasured) -> None:
        spec = self.pick()
        self.user.client.request(
            spec["method"],
            spec["path"],
            name=spec["endpoint"],
            data=spec["body"],
            headers=spec["headers"] or None,
        )


class LocustfileTasks:
    """One task iteration of a user locustfile per arrival, on pooled user instances."""

    def __init__(self, user_classes: list[type[Any]], environment: Any, rng: random.Random) -> None:
        self.environment = environment
        self.classes = user_classes
        self.weights = [max(1, getattr(cls, "weight", 1)) for cls in self.classes]
        self.idle: dict[type[Any], list[Any]] = {cls: [] for cls in self.classes}
        self.rng = rng

    def endpoint_of(self, request_type: str, name: str) -> str:
        """The request's name, with its method shown once (a name may already start with it)."""
        if name.upper().startswith(f"{request_type.upper()} "):
            return name
        return f"{request_type} {name}"

    def expired_endpoint(self) -> str:
        return NO_REQUEST

    def _new_user(self, cls: type[Any], unmeasured: Unmeasured) -> Any:
        user = cls(self.environment)
        if isinstance(getattr(user, "client", None), requests.Session):  # HttpUser
            # A 3xx is the outcome, never followed (FastHttpUser: max_redirects = 0).
            user.client.resolve_redirects = _no_redirects
        user._perfenv_tasks = DefaultTaskSet(user)
        with unmeasured():  # set-up requests (a login) are not arrivals
            user.on_start()
        return user

    def send(self, unmeasured: Unmeasured) -> None:
        cls = self.rng.choices(self.classes, self.weights)[0]
        idle = self.idle[cls]
        user = idle.pop() if idle else self._new_user(cls, unmeasured)
        try:
            tasks = user._perfenv_tasks
            chosen = tasks.get_next_task()
            if _is_taskset(chosen):
                _journey(chosen(user))
            else:
                tasks.execute_task(chosen)
        except _IGNORED:
            pass
        finally:
            idle.append(user)


def _is_taskset(task: Any) -> bool:
    return inspect.isclass(task) and issubclass(task, TaskSet)


def _journey(taskset: Any) -> None:
    """One pass of a TaskSet: its tasks (in order, for a sequential set), waits between them."""
    steps = len(taskset.tasks)
    if not isinstance(taskset, SequentialTaskSet):
        steps = len({id(t) for t in taskset.tasks})  # weights repeat a task in the list
    try:
        taskset.on_start()
        for step in range(steps):
            task = taskset.get_next_task()
            if _is_taskset(task):
                _journey(task(taskset))
            else:
                taskset.execute_task(task)
            if step < steps - 1:
                taskset.wait()
    except InterruptTaskSet:
        pass  # the set handed control back: its journey ends here
    finally:
        taskset.on_stop()


Sender = BuiltinMix | LocustfileTasks

"""The controller's CPUUtilization per group: each group's average over its own instances."""

from __future__ import annotations

import subprocess
import sys
import time

from perfenv.cli.targets.local.controller.main import SECOND_LAG_S, _to_next_second
from perfenv.cli.targets.local.controller.metrics import period_data


def test_each_group_averages_its_own_instances() -> None:
    groups = {
        "app": {"desired": 2, "in_service": 2, "instances": ["i-a", "i-b"], "min": 2, "max": 4},
        "load": {"desired": 1, "in_service": 1, "instances": ["i-lg"], "min": 1, "max": 1},
    }
    lines = [{"t": 0, "lb": {}, "cpu": {"i-a": 40.0, "i-b": 60.0, "i-lg": 90.0}, "groups": groups}]
    data = period_data(lines, 0, 10)["AWS/EC2"]
    by_group = {
        d["Dimensions"][0]["Value"]: d["Value"]
        for d in data
        if d["Dimensions"][0]["Name"] == "AutoScalingGroupName"
    }
    assert by_group == {"app": 50.0, "load": 90.0}


def test_the_controller_starts_without_numpy() -> None:
    """What the controller imports to start its fleet (its module, the autoscaler and alarm
    hooks, the emulator clients): numpy alone takes longer than the rest."""
    code = (
        "import sys\n"
        "import perfenv.cli.targets.local.controller.main\n"
        "import perfenv.cli.targets.local.alarms.service\n"
        "import perfenv.cli.targets.local.scaling.hooks\n"
        "import perfenv.cli.targets.local.realize\n"
        "print('numpy' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_the_controller_journals_just_after_each_wall_clock_second() -> None:
    for _ in range(5):
        now = time.time()
        wait = _to_next_second()
        assert 0 < wait <= 1 + SECOND_LAG_S
        assert abs((now + wait) % 1.0 - SECOND_LAG_S) < 0.01
        time.sleep(0.13)

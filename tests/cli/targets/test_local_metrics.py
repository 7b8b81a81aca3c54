"""The controller's CPUUtilization per group: each group's average over its own instances."""

from __future__ import annotations

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

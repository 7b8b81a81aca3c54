from __future__ import annotations

from perfenv.cli.program.evaluate import Evaluation
from perfenv.infra.config import FleetConfig
from perfenv.infra.fleet import Fleet, FleetArgs
from tests.infra.conftest import build, only

TAGS = {"perfenv:project": "perfenv", "perfenv:environment": "t"}


def _fleet(**overrides: object) -> Evaluation:
    values: dict[str, object] = {
        "instance_type": "c6i.large",
        "min": 2,
        "desired": 3,
        "max": 5,
        "scaling": {"cpu_percent": 55, "requests_per_target": 700},
        "schedules": [
            {"name": "night-off", "recurrence": "0 20 * * *", "min": 0, "desired": 0, "max": 0}
        ],
    }
    values.update(overrides)
    cfg = FleetConfig.model_validate(values)
    return build(
        lambda: Fleet(
            "t-fleet",
            FleetArgs(
                config=cfg,
                tags=TAGS,
                machine_image="ami-0123456789abcdef0",
                image_id="ami-0123456789abcdef0",
                user_data="IyEvYmluL3NoCg==",
                instance_profile_arn="arn:aws:iam::1:instance-profile/p",
                subnet_ids=["subnet-a", "subnet-b"],
                security_group_id="sg-app",
                target_group_arn="arn:tg",
                request_count_label="app/alb/1/targetgroup/tg/2",
            ),
        )
    )


def test_launch_template_requires_imdsv2_encrypts_and_has_no_public_ip() -> None:
    lt = only(_fleet(), "aws:ec2/launchTemplate:LaunchTemplate")
    assert lt.inputs["metadataOptions"]["httpTokens"] == "required"
    (bdm,) = lt.inputs["blockDeviceMappings"]
    assert bdm["ebs"]["encrypted"] == "true"
    (nic,) = lt.inputs["networkInterfaces"]
    assert nic["associatePublicIpAddress"] == "false"
    assert nic["securityGroups"] == ["sg-app"]
    assert lt.inputs["userData"] == "IyEvYmluL3NoCg=="
    assert lt.inputs["imageId"] == "ami-0123456789abcdef0"
    assert lt.inputs["iamInstanceProfile"] == {"arn": "arn:aws:iam::1:instance-profile/p"}
    kinds = {spec["resourceType"]: spec["tags"] for spec in lt.inputs["tagSpecifications"]}
    assert kinds["instance"] == kinds["volume"] == {**TAGS, "perfenv:role": "app"}


def test_group_bounds_health_checks_refresh_and_tags() -> None:
    asg = only(_fleet(), "aws:autoscaling/group:Group")
    assert (asg.inputs["minSize"], asg.inputs["desiredCapacity"], asg.inputs["maxSize"]) == (
        2,
        3,
        5,
    )
    assert asg.inputs["vpcZoneIdentifiers"] == ["subnet-a", "subnet-b"]
    assert asg.inputs["healthCheckType"] == "ELB"
    assert "GroupInServiceInstances" in asg.inputs["enabledMetrics"]  # read by every report
    assert asg.inputs["targetGroupArns"] == ["arn:tg"]
    assert asg.inputs["instanceRefresh"]["strategy"] == "Rolling"
    tags = {t["key"]: t for t in asg.inputs["tags"]}
    assert set(tags) == set(TAGS)
    assert all(t["propagateAtLaunch"] is True for t in tags.values())


def test_target_tracking_on_cpu_and_requests_per_target() -> None:
    policies = _fleet().of_type("aws:autoscaling/policy:Policy")
    by_metric = {
        p.inputs["targetTrackingConfiguration"]["predefinedMetricSpecification"][
            "predefinedMetricType"
        ]: p.inputs["targetTrackingConfiguration"]
        for p in policies
    }
    assert by_metric["ASGAverageCPUUtilization"]["targetValue"] == 55
    requests = by_metric["ALBRequestCountPerTarget"]
    assert requests["targetValue"] == 700
    assert (
        requests["predefinedMetricSpecification"]["resourceLabel"] == "app/alb/1/targetgroup/tg/2"
    )


def test_scheduled_actions_come_from_config() -> None:
    (schedule,) = _fleet().of_type("aws:autoscaling/schedule:Schedule")
    assert schedule.inputs["recurrence"] == "0 20 * * *"
    assert (schedule.inputs["minSize"], schedule.inputs["maxSize"]) == (0, 0)
    assert _fleet(schedules=[]).of_type("aws:autoscaling/schedule:Schedule") == []

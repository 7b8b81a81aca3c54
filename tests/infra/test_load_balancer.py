from __future__ import annotations

from perfenv.cli.program.evaluate import Evaluation
from perfenv.infra.config import AppConfig, LoadBalancerConfig
from perfenv.infra.load_balancer import LoadBalancer, LoadBalancerArgs
from tests.infra.conftest import build, only


def _lb(internal: bool = False, **overrides: object) -> Evaluation:
    cfg = LoadBalancerConfig.model_validate(overrides)
    return build(
        lambda: LoadBalancer(
            "t-lb",
            LoadBalancerArgs(
                config=cfg,
                app=AppConfig(health_path="/ready", port=9000),
                internal=internal,
                vpc_id="vpc-1",
                subnet_ids=["subnet-pub-a", "subnet-pub-b"],
                security_group_id="sg-lb",
            ),
        )
    )


def test_alb_in_public_subnets_with_target_group_health_path() -> None:
    ev = _lb()
    alb = only(ev, "aws:lb/loadBalancer:LoadBalancer")
    assert alb.inputs["subnets"] == ["subnet-pub-a", "subnet-pub-b"]
    assert alb.inputs["securityGroups"] == ["sg-lb"]
    assert alb.inputs["enableDeletionProtection"] is False
    assert alb.inputs["internal"] is False
    assert only(_lb(internal=True), "aws:lb/loadBalancer:LoadBalancer").inputs["internal"] is True
    tg = only(ev, "aws:lb/targetGroup:TargetGroup")
    assert tg.inputs["port"] == 9000
    assert tg.inputs["healthCheck"]["path"] == "/ready"


def test_http_only_without_a_certificate() -> None:
    (listener,) = _lb().of_type("aws:lb/listener:Listener")
    assert listener.inputs["port"] == 80
    assert listener.inputs["defaultActions"][0]["type"] == "forward"


def test_https_listener_when_a_certificate_is_configured() -> None:
    ev = _lb(certificate_arn="arn:aws:acm:eu-west-1:1:certificate/x", deletion_protection=True)
    listeners = {r.inputs["port"]: r.inputs for r in ev.of_type("aws:lb/listener:Listener")}
    assert set(listeners) == {80, 443}
    assert listeners[443]["certificateArn"] == "arn:aws:acm:eu-west-1:1:certificate/x"
    assert listeners[80]["defaultActions"][0]["type"] == "redirect"
    assert only(ev, "aws:lb/loadBalancer:LoadBalancer").inputs["enableDeletionProtection"] is True

"""The policy rules (`perfenv.policy.rules`, shared with the Pulumi policy pack) over what a
stack's program registers under mocks, and the check across stacks that a pack cannot make.

`preview`, `up` and `run` evaluate the program anyway (or cheaply, cached): a mandatory
violation is bad input (exit 2) before anything is created, one line per violation naming the
resource and the rule; advisory ones are warnings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from perfenv.cli.errors import BadInput
from perfenv.cli.program.evaluate import EvaluatedResource, Evaluation
from perfenv.infra.config import StackFile
from perfenv.policy import rules
from perfenv.policy.rules import Violation

BUDGET = "aws:budgets/budget:Budget"
CROSS_STACK_RULE = "every-environment-has-a-budget"


def as_policy_resources(evaluation: Evaluation) -> list[rules.Resource]:
    """The registered resources as the rules (and a policy pack) see them: their properties are
    what the mocks returned (inputs plus computed outputs), their provider's its inputs."""
    by_urn = evaluation.by_urn()

    def provider_of(resource: EvaluatedResource) -> dict[str, object]:
        if not resource.provider:
            return {}
        provider = by_urn.get(resource.provider.rsplit("::", 1)[0])
        return dict(provider.inputs) if provider is not None else {}

    return [
        rules.Resource(
            type=r.type,
            name=r.name,
            urn=r.urn,
            props=dict(r.state or r.inputs),
            provider_props=provider_of(r),
        )
        for r in evaluation.resources
        if r.custom and not r.type.startswith("pulumi:providers:")
    ]


def violations(evaluation: Evaluation) -> list[Violation]:
    return rules.evaluate(as_policy_resources(evaluation))


def enforce(found: Sequence[Violation], warn: Callable[[str], None]) -> None:
    """Warn about the advisory violations; BadInput naming every mandatory one."""
    for violation in found:
        if not violation.mandatory:
            warn(f"warning: {violation.line()}")
    mandatory = [v.line() for v in found if v.mandatory]
    if mandatory:
        raise BadInput("\n".join(mandatory))


def check_stack(stack: StackFile, name: str, warn: Callable[[str], None]) -> None:
    """Evaluate the stack's program under the preview mocks and enforce the rules."""
    from perfenv.cli.program.evaluate import evaluate

    enforce(violations(evaluate(stack, name)), warn)


def budget_coverage(cost: Evaluation, environments: Iterable[StackFile]) -> list[Violation]:
    """Every environment stack has a budget in the cost stack (filtered on its tag)."""
    filtered: set[str] = set()
    for budget in cost.of_type(BUDGET):
        for cost_filter in budget.inputs.get("costFilters") or []:
            filtered.update(str(v) for v in cost_filter.get("values") or [])
    missing = []
    for stack in environments:
        env = stack.environment
        assert env is not None
        if not any(f.endswith(f"perfenv:environment${env.name}") for f in filtered):
            missing.append(
                Violation(
                    rule=CROSS_STACK_RULE,
                    mandatory=True,
                    resource=f"{Path(stack.path).name}",
                    urn=None,
                    message=f"environment {env.name} has no budget in the cost stack",
                )
            )
    return missing

"""The load generator's instances reached without a network path: `RemoteHosts` over the state
store's exchange prefix in S3 and SSM Run Command (docs/adr/0030).

The exchange prefix (`RunConfig.exchange_prefix`: `<state_url>/generator/<stack>/`) is the one
the instances' role may read and write; `up` records it in the stack's work dir.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from urllib.parse import urlparse

from botocore.exceptions import ClientError

from perfenv.cli.errors import InfraError
from perfenv.cli.targets.aws.clients import ClientFactory
from perfenv.cli.verdict.generators import CommandState

DOCUMENT = "AWS-RunShellScript"
COMMAND_TIMEOUT_S = 3 * 3600  # a soak is long; the master's own --run-time ends it first
# An instance whose SSM agent has not registered yet is InvalidInstanceId: asked again.
REGISTER_ATTEMPTS, REGISTER_WAIT_S = 30, 10.0
OUTPUT_TAIL = 300


class SsmHosts:
    def __init__(
        self,
        client: ClientFactory,
        region: str,
        exchange: str,
        sleep: Callable[[float], None],
    ) -> None:
        parsed = urlparse(exchange)
        if parsed.scheme != "s3" or not parsed.netloc:
            raise InfraError(
                f"the load generator exchanges its plan and results through an s3:// state "
                f"store (PERFENV_STATE_URL); this run's is {exchange or 'not in S3'}"
            )
        self.bucket, self.prefix = parsed.netloc, parsed.path.strip("/")
        self.s3, self.ssm = client("s3", region), client("ssm", region)
        self.ec2 = client("ec2", region)
        self.sleep = sleep

    def _key(self, name: str) -> str:
        return f"{self.prefix}/{name}" if self.prefix else name

    def uri(self, name: str) -> str:
        return f"s3://{self.bucket}/{self._key(name)}"

    def upload(self, name: str, body: bytes) -> str:
        self.s3.put_object(Bucket=self.bucket, Key=self._key(name), Body=body)
        return self.uri(name)

    def download(self, name: str, start: int = 0) -> bytes | None:
        ranged = {"Range": f"bytes={start}-"} if start else {}
        try:
            answer = self.s3.get_object(Bucket=self.bucket, Key=self._key(name), **ranged)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code in ("NoSuchKey", "404"):
                return None
            if code in ("InvalidRange", "416"):  # nothing past `start` yet
                return b""
            raise
        body: bytes = answer["Body"].read()
        return body

    def address(self, instance: str) -> str:
        reservations = self.ec2.describe_instances(InstanceIds=[instance])["Reservations"]
        address = reservations[0]["Instances"][0].get("PrivateIpAddress")
        if not address:
            raise InfraError(f"load generator instance {instance} has no private address")
        return str(address)

    def send(self, instances: list[str], commands: list[str], comment: str) -> str:
        parameters = {"commands": commands, "executionTimeout": [str(COMMAND_TIMEOUT_S)]}
        attempt = 0
        while True:
            try:
                answer = self.ssm.send_command(
                    InstanceIds=instances,
                    DocumentName=DOCUMENT,
                    Comment=comment[:100],
                    TimeoutSeconds=600,  # to be delivered; the script's own bound is above
                    Parameters=parameters,
                )
                return str(answer["Command"]["CommandId"])
            except ClientError as exc:
                attempt += 1
                code = exc.response.get("Error", {}).get("Code")
                if code != "InvalidInstanceId" or attempt >= REGISTER_ATTEMPTS:
                    raise InfraError(f"Run Command on {', '.join(instances)}: {exc}") from None
                self.sleep(REGISTER_WAIT_S)  # its SSM agent has not registered yet

    def state(self, command_id: str, instance: str) -> CommandState:
        try:
            answer = self.ssm.get_command_invocation(CommandId=command_id, InstanceId=instance)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "InvocationDoesNotExist":
                return CommandState(status="Pending")  # not delivered yet
            raise
        output = answer.get("StandardErrorContent") or answer.get("StandardOutputContent") or ""
        return CommandState(status=str(answer["Status"]), output=output.strip()[-OUTPUT_TAIL:])

    def cancel(self, command_id: str) -> None:
        with contextlib.suppress(ClientError):  # it may have ended meanwhile
            self.ssm.cancel_command(CommandId=command_id)

    def pause(self, seconds: float) -> None:
        self.sleep(seconds)

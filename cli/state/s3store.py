"""The state store in S3 (`s3://bucket/prefix`), with conditional writes on the object's ETag.

`put_if` sends `If-Match: <etag>` (or `If-None-Match: *` for a key that must not exist yet); S3
answers 412 PreconditionFailed when another writer got there first, and 409
ConditionalRequestConflict when two conditional writes race: both are a lost race.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from perfenv.cli.errors import BadInput, InfraError
from perfenv.cli.state.store import Version, decode, encode
from perfenv.cli.state.urls import redact_url

# A bucket perfenv cannot use, whatever it retries.
_UNUSABLE = {"NoSuchBucket", "AccessDenied", "AllAccessDisabled", "InvalidBucketName"}
_LOST_RACE = {"PreconditionFailed", "ConditionalRequestConflict", "412", "409"}
# What AWS answers to credentials it does not accept (expired, unknown, revoked).
_REFUSED = {
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidClientTokenId",
    "InvalidAccessKeyId",
    "UnrecognizedClientException",
    "SignatureDoesNotMatch",
    "RequestExpired",
}


@contextmanager
def aws_credentials(what: str) -> Iterator[None]:
    """Missing, expired or refused AWS credentials as one line and exit 2, never a traceback."""
    from botocore.exceptions import (
        ClientError,
        CredentialRetrievalError,
        NoCredentialsError,
        PartialCredentialsError,
        SSOTokenLoadError,
        TokenRetrievalError,
        UnauthorizedSSOTokenError,
    )

    missing = (
        NoCredentialsError,
        PartialCredentialsError,
        CredentialRetrievalError,
        SSOTokenLoadError,
        TokenRetrievalError,
        UnauthorizedSSOTokenError,
    )
    try:
        yield
    except missing as exc:
        raise BadInput(
            f"{what}: no usable AWS credentials ({type(exc).__name__}); set AWS_PROFILE or "
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        ) from None
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in _REFUSED:
            raise BadInput(f"{what}: AWS refused the credentials ({code})") from None
        raise


@contextmanager
def _bucket(what: str) -> Iterator[None]:
    """`aws_credentials`, and a bucket that cannot be used (missing, not ours, a name S3 does
    not take, an endpoint that does not answer) as one line, never a traceback."""
    from botocore.exceptions import ClientError, EndpointConnectionError, ParamValidationError

    try:
        with aws_credentials(what):
            yield
    except ParamValidationError as exc:
        reason = str(exc).splitlines()[-1].split(": Bucket name must")[0]
        raise BadInput(f"{what}: {reason}") from None
    except EndpointConnectionError as exc:
        raise InfraError(f"{what}: {exc}") from None
    except ClientError as exc:
        error = exc.response.get("Error", {})
        if error.get("Code") in _UNUSABLE:
            raise BadInput(f"{what}: {error.get('Code')}: {error.get('Message', '')}") from None
        raise


class S3Store:
    page_size = 1000  # keys per ListObjectsV2 page (S3's maximum)

    def __init__(self, bucket: str, prefix: str, url: str) -> None:
        import boto3

        self.bucket, self.prefix, self.url = bucket, prefix.strip("/"), redact_url(url)
        self.s3 = boto3.client("s3", endpoint_url=os.environ.get("PERFENV_S3_ENDPOINT_URL"))

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def get(self, key: str) -> dict[str, Any] | None:
        return self.read(key)[0]

    def read(self, key: str) -> tuple[dict[str, Any] | None, Version | None]:
        try:
            with _bucket(self.url):
                got = self.s3.get_object(Bucket=self.bucket, Key=self._key(key))
                body = got["Body"].read()
        except self.s3.exceptions.NoSuchKey:
            return None, None
        return decode(key, body), str(got["ETag"])

    def put(self, key: str, value: dict[str, Any]) -> None:
        with _bucket(self.url):
            self.s3.put_object(Bucket=self.bucket, Key=self._key(key), Body=encode(value))

    def put_if(self, key: str, value: dict[str, Any], version: Version | None) -> bool:
        from botocore.exceptions import ClientError

        where, body = self._key(key), encode(value)
        try:
            with _bucket(self.url):
                if version is None:
                    self.s3.put_object(Bucket=self.bucket, Key=where, Body=body, IfNoneMatch="*")
                else:
                    self.s3.put_object(Bucket=self.bucket, Key=where, Body=body, IfMatch=version)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            status = str(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))
            if error.get("Code") in _LOST_RACE or status in _LOST_RACE:
                return False
            raise
        return True

    def delete(self, key: str) -> None:
        with _bucket(self.url):
            self.s3.delete_object(Bucket=self.bucket, Key=self._key(key))

    def keys(self, prefix: str = "") -> list[str]:
        strip = len(self._key(""))
        out: list[str] = []
        pages = self.s3.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket,
            Prefix=self._key(prefix),
            PaginationConfig={"PageSize": self.page_size},
        )
        with _bucket(self.url):
            for page in pages:
                out += [obj["Key"][strip:] for obj in page.get("Contents", [])]
        return sorted(out)

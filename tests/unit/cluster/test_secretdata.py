"""A namespace's Secret values reach the report redaction in every form a runbook could print."""

from __future__ import annotations

import base64

from pfdrill.cluster import secretdata
from pfdrill.cluster.fake import FakeCluster
from pfdrill.errors import ClusterError
from pfdrill.report.redact import MASK, Redactor


def _cluster() -> FakeCluster:
    cluster = FakeCluster()
    cluster.add_secret("production", "payments-db", {"password": b"hunter2-s3cret\n",
                                                     "blob": b"\xff\xfe\x00binary"})
    cluster.add_secret("elsewhere", "other", {"password": b"not-this-namespace"})
    return cluster


def test_each_value_is_there_decoded_trimmed_and_base64() -> None:
    found = secretdata.values(_cluster(), "production")
    assert "hunter2-s3cret\n" in found and "hunter2-s3cret" in found
    assert base64.b64encode(b"hunter2-s3cret\n").decode() in found
    assert base64.b64encode(b"\xff\xfe\x00binary").decode() in found
    assert not any("not-this-namespace" in v for v in found)


def test_a_runbook_output_showing_the_secret_is_masked() -> None:
    redactor = Redactor(secretdata.values(_cluster(), "production"))
    shown = f"{base64.b64encode(b'hunter2-s3cret' + bytes([10])).decode()}\nhunter2-s3cret\n"
    assert redactor.text(shown) == f"{MASK}\n{MASK}"  # the value ends in its newline


class _Forbidden(FakeCluster):
    def list_objects(self, api_version: str, kind: str, namespace: str | None,
                     selector: str = "") -> list[dict[str, object]]:
        raise ClusterError("list Secret: API error 403 Forbidden")


def test_a_cluster_that_refuses_to_list_secrets_gives_nothing_to_redact() -> None:
    assert secretdata.values(_Forbidden(), "production") == ()

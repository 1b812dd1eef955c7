"""Production manifests are checked by a tool (no cluster runs here): each resource validates strictly
against the Kubernetes schema, and every Deployment runs a process that exists in this repository."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

K8S = Path(__file__).resolve().parents[2] / "deploy" / "production" / "k8s"
DOCS = [(p.name, i, d) for p in sorted(K8S.glob("*.yaml")) for i, d in enumerate(yaml.safe_load_all(p.read_text())) if d]


@pytest.mark.parametrize("name, index, doc", DOCS, ids=[f"{n}#{i}" for n, i, _ in DOCS])
def test_manifest_is_valid_kubernetes(name, index, doc):
    kubernetes_validate.validate(doc, "1.30.0", strict=True)


def test_every_service_and_the_cases_worker_is_deployed_with_a_real_entry_point():
    deployments = {d["metadata"]["name"]: d for _, _, d in DOCS if d["kind"] == "Deployment"}
    assert set(deployments) == {"otp", "applications", "verification", "orders", "cases-worker"}
    for name, d in deployments.items():
        container = d["spec"]["template"]["spec"]["containers"][0]
        args = container["args"]
        module = args[1].split(":")[0] if args[0] == "uvicorn" else args[2]
        assert importlib.util.find_spec(module) is not None, f"{name} runs {module}, which does not exist"
        assert d["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True

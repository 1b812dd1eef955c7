"""Production manifests are checked by a tool (no cluster runs here): each resource validates strictly
against the Kubernetes schema, and every Deployment runs a process that exists in this repository."""

from __future__ import annotations

import base64
import hashlib
import importlib.util
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

K8S = Path(__file__).resolve().parents[2] / "deploy" / "production" / "k8s"
DOCS = [
    (p.name, i, d) for p in sorted(K8S.glob("*.yaml")) for i, d in enumerate(yaml.safe_load_all(p.read_text())) if d
]


@pytest.mark.parametrize("name, index, doc", DOCS, ids=[f"{n}#{i}" for n, i, _ in DOCS])
def test_manifest_is_valid_kubernetes(name, index, doc):
    kubernetes_validate.validate(doc, "1.30.0", strict=True)


def test_every_service_and_the_cases_worker_is_deployed_with_a_real_entry_point():
    deployments = {d["metadata"]["name"]: d for _, _, d in DOCS if d["kind"] == "Deployment"}
    ours = {"otp", "applications", "verification", "orders", "portal", "cases-worker"}
    temporal = {f"temporal-{role}" for role in ("frontend", "history", "matching", "worker")}
    assert set(deployments) == ours | {"temporal-ui"} | temporal
    for name, d in ((n, d) for n, d in deployments.items() if n in ours):
        container = d["spec"]["template"]["spec"]["containers"][0]
        args = container["args"]
        module = args[1].split(":")[0] if args[0] == "uvicorn" else args[2]
        assert importlib.util.find_spec(module) is not None, f"{name} runs {module}, which does not exist"
        assert d["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True


def _pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    if workload["kind"] == "CronJob":
        return workload["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return workload["spec"]["template"]["spec"]


def _generated(name: str) -> str:
    """A secret as the operator generates it (opaque, long, varied), stable per name."""
    return "secret-from-" + hashlib.sha256(name.encode()).hexdigest()


def _pod_environment(deployment: dict[str, Any], as_shipped: bool = False) -> dict[str, str]:
    """What Kubernetes would give the pod: the ConfigMaps it names, and each secret as an opaque value. The
    ConfigMap ships with `REPLACE-WITH-...` where the operator puts the deployment's public keys: filled in
    here as the operator would, unless `as_shipped`."""
    config_maps = {d["metadata"]["name"]: d["data"] for _, _, d in DOCS if d["kind"] == "ConfigMap"}
    container = _pod_spec(deployment)["containers"][0]
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        env.update(config_maps[source["configMapRef"]["name"]])
    for item in container.get("env", []):
        if "value" in item:
            env[item["name"]] = item["value"]
        else:
            ref = item["valueFrom"]["secretKeyRef"]
            secret = _generated(f"{ref['name']}-{ref['key']}")
            env[item["name"]] = f"k1:{secret}" if item["name"] == "SEVA_PAYLOAD_KEYS" else secret
    if not as_shipped:
        for name, value in env.items():
            if value.startswith("REPLACE-WITH-"):
                env[name] = base64.b64encode(hashlib.sha256(name.encode()).digest()).decode()
    return env


def _process(deployment: dict[str, Any]) -> str:
    args = _pod_spec(deployment)["containers"][0]["args"]
    if args[0] == "seva":
        return args[1]  # `seva audit publish`
    return args[1].split(".")[1] if args[0] == "uvicorn" else "cases"


@pytest.mark.parametrize(
    "name", ["otp", "applications", "verification", "orders", "portal", "cases-worker", "audit-heads"]
)
def test_each_pod_is_given_what_its_process_needs_to_start_in_production(name, monkeypatch):
    from services.common.settings import (
        SETTINGS_BY_PROCESS,
        AuditSettings,
        ConfigurationError,
        OtpSettings,
        Settings,
        get_settings,
        use_settings,
    )

    deployment = next(d for _, _, d in DOCS if d["kind"] in ("Deployment", "CronJob") and d["metadata"]["name"] == name)
    env = _pod_environment(deployment)
    assert env["SEVA_ENV"] == "production"
    for key in [k for k in list(__import__("os").environ) if k.startswith("SEVA_")]:
        monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    use_settings(SETTINGS_BY_PROCESS[_process(deployment)])
    try:
        settings = get_settings()
        if name == "otp":
            from services.otp.sms import load_gateway

            assert isinstance(settings, OtpSettings)
            load_gateway(settings)  # the named gateway exists and has what it needs
    except ConfigurationError as exc:
        pytest.fail(f"the {name} pod would not start: {exc}")
    finally:
        monkeypatch.undo()
        use_settings(Settings)
    # Each process is given only the secrets it uses.
    secrets = {k for k, v in env.items() if "secret-from-" in v}
    cls = SETTINGS_BY_PROCESS[_process(deployment)]
    used = {f"SEVA_{f.upper()}" for f in (*cls.secrets, *cls.required_outside_dev)}
    if name == "audit-heads":
        assert isinstance(settings, AuditSettings) and settings.audit_signing_key, (
            "the daily job cannot sign without its key"
        )
    assert secrets <= used, f"{name} is given secrets it does not use: {sorted(secrets - used)}"


@pytest.mark.parametrize("name", ["otp", "applications", "verification", "orders", "portal"])
def test_a_pod_given_the_config_map_as_shipped_refuses_to_start(name, monkeypatch):
    """The ConfigMap's `REPLACE-WITH-...` public key once passed "is set": every service started and every
    employee was refused at run time. Now the pod stops at start, naming what to fill in."""
    from services.common.settings import SETTINGS_BY_PROCESS, ConfigurationError, Settings, get_settings, use_settings

    deployment = next(d for _, _, d in DOCS if d["kind"] == "Deployment" and d["metadata"]["name"] == name)
    for key in [k for k in list(__import__("os").environ) if k.startswith("SEVA_")]:
        monkeypatch.delenv(key)
    for key, value in _pod_environment(deployment, as_shipped=True).items():
        monkeypatch.setenv(key, value)
    use_settings(SETTINGS_BY_PROCESS[_process(deployment)])
    try:
        with pytest.raises(ConfigurationError, match="SEVA_SESSION_PUBLIC_KEY holds a placeholder"):
            get_settings()
    finally:
        monkeypatch.undo()
        use_settings(Settings)


def test_the_temporal_ui_is_the_version_built_locally_signed_in_and_reading_through_the_codec():
    """The production UI is the release the local stack builds (deploy/temporal-ui/go.mod), with sign-in on and the
    officer's access token passed to the codec server; write actions off (operations act through `seva`)."""
    import re
    from pathlib import Path

    built = re.search(
        r"github.com/temporalio/ui-server/v2 (v[\d.]+)",
        (Path(__file__).parents[2] / "deploy/temporal-ui/go.mod").read_text(),
    )
    assert built
    ui = next(d for _, _, d in DOCS if d["kind"] == "Deployment" and d["metadata"]["name"] == "temporal-ui")
    container = ui["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == f"temporalio/ui:{built.group(1)}"
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["TEMPORAL_AUTH_ENABLED"] == "true" and env["TEMPORAL_CODEC_PASS_ACCESS_TOKEN"] == "true"
    assert env["TEMPORAL_DISABLE_WRITE_ACTIONS"] == "true" and env["TEMPORAL_CODEC_ENDPOINT"].startswith("https://")
    config = next(d for _, _, d in DOCS if d["kind"] == "ConfigMap")["data"]
    assert env["TEMPORAL_AUTH_PROVIDER_URL"] == config["SEVA_OIDC_ISSUER"]


def test_the_temporal_server_is_the_release_and_config_the_benchmark_measured():
    """Production runs the server `make temporal-server` builds for the benchmark's production engine, with the
    same history shards (fixed for a cluster's life), connection pools and dynamic config (deploy/local/stack.py)."""
    import re

    from deploy.local.stack import PRODUCTION_DYNAMIC_CONFIG, PRODUCTION_HISTORY_SHARDS, PRODUCTION_SQL_CONNECTIONS

    makefile = (K8S.parents[2] / "Makefile").read_text()
    version = re.search(r"^TEMPORAL_SERVER_VERSION := v([\d.]+)$", makefile, re.M)
    assert version
    roles = {}
    for _, _, d in DOCS:
        if (
            d["kind"] == "Deployment"
            and d["metadata"]["name"].startswith("temporal-")
            and d["metadata"]["name"] != ("temporal-ui")
        ):
            container = d["spec"]["template"]["spec"]["containers"][0]
            assert container["image"] == f"temporalio/server:{version.group(1)}"
            roles[container["args"][-1]] = d["spec"]["replicas"]
    assert set(roles) == {"frontend", "history", "matching", "worker"}
    config = next(
        d for _, _, d in DOCS if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "temporal-server-config"
    )
    server = yaml.safe_load(re.sub(r"\{\{[^}]*\}\}", "x", config["data"]["production.yaml"]))
    assert server["persistence"]["numHistoryShards"] == PRODUCTION_HISTORY_SHARDS
    for store, conns in PRODUCTION_SQL_CONNECTIONS.items():
        assert server["persistence"]["datastores"][store]["sql"]["maxConns"] == conns
    assert server["persistence"]["datastores"]["visibility"]["sql"]["databaseName"] == "temporal_visibility"
    dynamic = yaml.safe_load(config["data"]["dynamicconfig.yaml"])
    assert {k: v[0]["value"] for k, v in dynamic.items()} == PRODUCTION_DYNAMIC_CONFIG

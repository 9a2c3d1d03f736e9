"""deploy/kubernetes: the values for Dagster's Helm chart use only keys the chart documents, reference
secrets by name, and run this image's code location with the K8sRunLauncher on an external PostgreSQL; the
plain manifests are consistent (selectors, ports, probes, non-root, limits). No cluster or helm is needed:
`kubectl apply --dry-run=client` still asks a server for its API groups, so it cannot run here."""

from __future__ import annotations

import importlib.util
import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "kubernetes"
VALUES = yaml.safe_load((K8S / "dagster-values.yaml").read_text())
APPS = [doc for doc in yaml.safe_load_all((K8S / "glp-apps.yaml").read_text()) if doc]
README = (K8S / "README.md").read_text()

# The keys of the dagster/dagster chart's values.yaml (1.x) this repository may set, by section.
CHART_KEYS = {
    "global": {"postgresqlSecretName", "dagsterHome", "serviceAccountName", "celeryConfigSecretName"},
    "generatePostgresqlPasswordSecret": None,
    "postgresql": {
        "enabled",
        "image",
        "postgresqlHost",
        "postgresqlUsername",
        "postgresqlPassword",
        "postgresqlDatabase",
        "postgresqlParams",
        "postgresqlScheme",
        "service",
    },
    "dagsterWebserver": {
        "replicaCount",
        "image",
        "service",
        "resources",
        "env",
        "envConfigMaps",
        "envSecrets",
        "enableReadOnly",
        "pathPrefix",
        "nodeSelector",
        "affinity",
        "tolerations",
        "podSecurityContext",
        "securityContext",
        "readinessProbe",
        "livenessProbe",
        "startupProbe",
        "annotations",
        "logLevel",
    },
    "dagsterDaemon": {
        "enabled",
        "image",
        "runCoordinator",
        "runRetries",
        "heartbeatTolerance",
        "resources",
        "env",
        "envConfigMaps",
        "envSecrets",
        "nodeSelector",
        "affinity",
        "tolerations",
        "podSecurityContext",
        "securityContext",
        "livenessProbe",
        "annotations",
        "runMonitoring",
        "logLevel",
    },
    "dagster-user-deployments": {"enabled", "enableSubchart", "deployments", "imagePullSecrets"},
    "runLauncher": {"type", "config"},
    "computeLogManager": {"type", "config"},
    "telemetry": {"enabled"},
}
USER_DEPLOYMENT_KEYS = {
    "name",
    "image",
    "dagsterApiGrpcArgs",
    "codeServerArgs",
    "port",
    "includeConfigInLaunchedRuns",
    "env",
    "envConfigMaps",
    "envSecrets",
    "annotations",
    "labels",
    "nodeSelector",
    "affinity",
    "tolerations",
    "podSecurityContext",
    "securityContext",
    "resources",
    "replicaCount",
    "livenessProbe",
    "readinessProbe",
    "startupProbe",
    "service",
    "volumes",
    "volumeMounts",
}
K8S_RUN_LAUNCHER_KEYS = {
    "image",
    "imagePullPolicy",
    "jobNamespace",
    "loadInclusterConfig",
    "kubeconfigFile",
    "envConfigMaps",
    "envSecrets",
    "envVars",
    "volumeMounts",
    "volumes",
    "labels",
    "resources",
    "runK8sConfig",
    "securityContext",
    "failPodOnRunFailure",
}


def test_values_use_only_documented_chart_keys() -> None:
    assert set(VALUES) <= set(CHART_KEYS), set(VALUES) - set(CHART_KEYS)
    for section, keys in CHART_KEYS.items():
        if keys is not None and section in VALUES:
            assert set(VALUES[section]) <= keys, (section, set(VALUES[section]) - keys)
    for deployment in VALUES["dagster-user-deployments"]["deployments"]:
        assert set(deployment) <= USER_DEPLOYMENT_KEYS, set(deployment) - USER_DEPLOYMENT_KEYS
    assert set(VALUES["runLauncher"]["config"]) == {"k8sRunLauncher"}
    assert set(VALUES["runLauncher"]["config"]["k8sRunLauncher"]) <= K8S_RUN_LAUNCHER_KEYS


def test_external_postgres_with_the_password_secret_by_name() -> None:
    pg = VALUES["postgresql"]
    assert pg["enabled"] is False
    assert pg["postgresqlHost"] and pg["postgresqlUsername"] and pg["postgresqlDatabase"]
    assert "postgresqlPassword" not in pg  # it comes from the secret below
    assert VALUES["generatePostgresqlPasswordSecret"] is False
    assert VALUES["global"]["postgresqlSecretName"] == "dagster-postgresql-secret"
    assert "--from-literal=postgresql-password=" in README  # the key the chart reads
    assert pg["postgresqlScheme"] == "postgresql+psycopg2"


def test_user_code_is_this_image_and_code_location_on_the_k8s_run_launcher() -> None:
    assert VALUES["runLauncher"]["type"] == "K8sRunLauncher"
    (deployment,) = VALUES["dagster-user-deployments"]["deployments"]
    args = deployment["dagsterApiGrpcArgs"]
    module = args[args.index("--module-name") + 1]
    assert module == "glp_pipeline.defs.definitions" and args[args.index("--attribute") + 1] == "defs"
    assert importlib.util.find_spec(module) is not None
    assert deployment["includeConfigInLaunchedRuns"]["enabled"] is True
    assert deployment["podSecurityContext"]["runAsNonRoot"] is True
    assert (
        VALUES["dagsterDaemon"]["runCoordinator"]["config"]["queuedRunCoordinator"]["maxConcurrentRuns"] == 1
    )
    image = f"{deployment['image']['repository']}:{deployment['image']['tag']}"
    for doc in APPS:
        if doc["kind"] == "Deployment":
            assert doc["spec"]["template"]["spec"]["containers"][0]["image"] == image


def test_secrets_are_referenced_by_name_only() -> None:
    names = {s["name"] for s in VALUES["runLauncher"]["config"]["k8sRunLauncher"]["envSecrets"]}
    (deployment,) = VALUES["dagster-user-deployments"]["deployments"]
    names |= {s["name"] for s in deployment["envSecrets"]}
    for doc in APPS:
        for container in doc.get("spec", {}).get("template", {}).get("spec", {}).get("containers", []):
            names |= {ref["secretRef"]["name"] for ref in container.get("envFrom", [])}
            for var in container.get("env", []):
                assert not re.search(r"PASSWORD|SECRET|TOKEN|KEY|DATABASE_URL", var["name"]), var["name"]
    assert names == {"glp-sync-env", "glp-sync-reader"}
    for name in names | {"dagster-postgresql-secret"}:
        assert f"create secret generic {name}" in README, name
    for path in (K8S / "dagster-values.yaml", K8S / "glp-apps.yaml"):
        assert not re.search(r"://[^:/@\s]+:[^@\s]+@", path.read_text()), path.name


def test_chart_version_and_dagster_k8s_match_the_lock() -> None:
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    versions = {package["name"]: package["version"] for package in lock["package"]}
    assert f"--version {versions['dagster']}" in README
    assert versions["dagster-k8s"] == versions["dagster-postgres"]
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert f"dagster-k8s=={versions['dagster-k8s']}" in pyproject["project"]["optional-dependencies"]["k8s"]
    assert "--extra k8s" in (ROOT / "Dockerfile").read_text()


def test_plain_manifests_are_consistent() -> None:
    deployments = {d["metadata"]["name"]: d for d in APPS if d["kind"] == "Deployment"}
    services = {s["metadata"]["name"]: s for s in APPS if s["kind"] == "Service"}
    assert set(deployments) == set(services) == {"glp-dashboard", "glp-mcp"}
    for name, deployment in deployments.items():
        assert deployment["apiVersion"] == "apps/v1"
        template = deployment["spec"]["template"]
        labels = template["metadata"]["labels"]
        assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
        service = services[name]
        assert service["spec"]["type"] == "ClusterIP"  # nothing exposed outside the cluster
        assert service["spec"]["selector"].items() <= labels.items()
        (container,) = template["spec"]["containers"]
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        assert [p["targetPort"] for p in service["spec"]["ports"]] == list(ports)
        assert container["readinessProbe"] and container["livenessProbe"]
        assert container["resources"]["limits"]["memory"] and container["resources"]["requests"]
        assert template["spec"]["securityContext"]["runAsNonRoot"] is True
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
    dashboard = deployments["glp-dashboard"]["spec"]["template"]["spec"]["containers"][0]
    assert dashboard["readinessProbe"]["httpGet"]["path"] == "/_stcore/health"
    mcp = deployments["glp-mcp"]["spec"]["template"]["spec"]["containers"][0]
    assert mcp["args"][:4] == ["glp", "mcp", "--transport", "http"]
    assert [ref["secretRef"]["name"] for ref in mcp["envFrom"]] == ["glp-sync-reader"]  # reader only
    assert (mcp["livenessProbe"]["httpGet"]["path"], mcp["readinessProbe"]["httpGet"]["path"]) == (
        "/healthz",
        "/readyz",
    )

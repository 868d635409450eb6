"""The Kubernetes deployment (scout_assets/deploy/kubernetes/ and the Dockerfile): the instance
validates against Dagster's schema with dagster-k8s, the run launcher builds the Job a month
range runs in, and the Helm values, the Dockerfile, and pyproject.toml name
one code location, one image and one instance, so they cannot drift apart. No cluster and no
docker here: the image itself is not built (README.md of that folder)."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import tomllib
from pathlib import Path

import pytest
import yaml
from dagster import DagsterInstance
from dagster._config import process_config
from dagster._core.instance.config import dagster_instance_config
from dagster._core.instance.ref import InstanceRef
from dagster._core.storage.dagster_run import DagsterRun
from dagster_k8s import K8sRunLauncher
from dagster_k8s.container_context import K8sContainerContext
from dagster_k8s.job import construct_dagster_k8s_job

from scout_assets.constants import WAREHOUSE_POOL
from scout_assets.sensors.automation import keep_pool_limit
from scout_assets.sql_files import DEPLOY_DIR

REPO = Path(__file__).resolve().parents[2]
KUBERNETES = Path(str(DEPLOY_DIR / "kubernetes"))
INSTANCE = KUBERNETES / "dagster.yaml"
VALUES = yaml.safe_load((KUBERNETES / "values.yaml").read_text())
SETTINGS = yaml.safe_load((KUBERNETES / "scout-settings.yaml").read_text())
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
DOCKERFILE = (REPO / "Dockerfile").read_text()
CODE_LOCATION = VALUES["dagster-user-deployments"]["deployments"][0]
LAUNCHER_VALUES = VALUES["runLauncher"]["config"]["k8sRunLauncher"]
IMAGE = "scoutregistry.azurecr.io/scout-pipelines:0123abc"


def instance_yaml() -> dict:
    return yaml.safe_load(INSTANCE.read_text())


def env_vars(path: Path) -> set[str]:
    return set(re.findall(r"env:\s*(\w+)", path.read_text()))


def dockerfile_instruction(name: str) -> list[str]:
    return re.findall(rf"^{name}\s+(.+)$", DOCKERFILE, flags=re.MULTILINE)


def dockerfile_env(name: str) -> str:
    (env_line,) = [line for line in dockerfile_instruction("ENV") if f"{name}=" in line]
    return shlex.split(env_line.split(f"{name}=", 1)[1])[0]


def names(refs: list[dict]) -> list[str]:
    return [ref["name"] for ref in refs]


@pytest.fixture
def kubernetes_home(tmp_path, monkeypatch) -> Path:
    """DAGSTER_HOME holding the Kubernetes dagster.yaml, its variables set as scout-settings and
    the password secret set them in a pod."""
    for name in env_vars(INSTANCE):
        monkeypatch.setenv(name, SETTINGS["data"].get(name, "secret"))
    shutil.copy(INSTANCE, tmp_path / "dagster.yaml")
    return tmp_path


@pytest.fixture
def launcher(kubernetes_home, tmp_path) -> K8sRunLauncher:
    """The instance's K8sRunLauncher, built from its validated config; outside a cluster it
    reads a kubeconfig (parsed only: nothing connects) instead of the pod's service account."""
    ref = InstanceRef.from_dir(str(kubernetes_home))
    data = ref.run_launcher_data
    assert data is not None
    result = process_config(K8sRunLauncher.config_type(), data.config_dict)
    assert result.success, result.errors
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "aks", "cluster": {"server": "https://127.0.0.1:6443"}}],
                "users": [{"name": "ci", "user": {"token": "unused"}}],
                "contexts": [{"name": "aks", "context": {"cluster": "aks", "user": "ci"}}],
                "current-context": "aks",
            }
        )
    )
    config = {**result.value, "load_incluster_config": False, "kubeconfig_file": str(kubeconfig)}
    return K8sRunLauncher(**config)


def test_the_instance_validates_with_postgres_storage_and_the_k8s_run_launcher(kubernetes_home):
    config, _ = dagster_instance_config(str(kubernetes_home))  # validates against the schema
    ref = InstanceRef.from_dir(str(kubernetes_home))

    assert "postgres" in config["storage"]
    assert ref.run_storage_data.class_name == "PostgresRunStorage"
    assert ref.event_storage_data.class_name == "PostgresEventLogStorage"
    assert ref.run_coordinator_data.class_name == "QueuedRunCoordinator"
    assert ref.run_launcher_data is not None
    assert (ref.run_launcher_data.module_name, ref.run_launcher_data.class_name) == (
        "dagster_k8s",
        "K8sRunLauncher",
    )


def test_a_bad_launcher_key_fails_the_k8s_schema(kubernetes_home):
    """The schema check above is a real one: a misspelt key does not pass."""
    config = instance_yaml()["run_launcher"]["config"]
    misspelt = {**config, "env_config_map": config["env_config_maps"]}
    assert not process_config(K8sRunLauncher.config_type(), misspelt).success


def test_a_month_range_runs_in_a_pod_with_the_settings_secrets_and_instance(launcher):
    run = DagsterRun(job_name="month_rebuild", run_id="0c1d2e3f-0000-4000-8000-000000000001")
    context = K8sContainerContext.create_for_run(run, launcher, include_run_tags=False)
    job = construct_dagster_k8s_job(
        job_config=context.get_k8s_job_config(job_image=IMAGE, run_launcher=launcher),
        args=["dagster", "api", "execute_run", "{}"],
        job_name="dagster-run-0c1d2e3f",
        user_defined_k8s_config=context.run_k8s_config,
        component="run_worker",
    )
    pod = job.spec.template.spec
    (container,) = pod.containers
    env = {var.name: var for var in container.env}

    assert context.namespace == LAUNCHER_VALUES["jobNamespace"]
    assert container.image == IMAGE
    assert {ref.config_map_ref.name for ref in container.env_from if ref.config_map_ref} == {
        SETTINGS["metadata"]["name"]
    }
    assert {ref.secret_ref.name for ref in container.env_from if ref.secret_ref} == set(
        names(CODE_LOCATION["envSecrets"])
    )
    password = env["DAGSTER_PG_PASSWORD"].value_from.secret_key_ref
    assert (password.name, password.key) == (
        VALUES["global"]["postgresqlSecretName"],
        "postgresql-password",
    )
    # The run gets the instance in its arguments; DAGSTER_HOME is the image's own.
    assert env["DAGSTER_HOME"].value == dockerfile_env("DAGSTER_HOME")
    assert container.resources.requests == {"cpu": "2", "memory": "8Gi"}
    assert job.spec.backoff_limit == 0


def test_the_helm_values_render_this_instance():
    """The chart writes its dagster.yaml from values.yaml; this file is that instance."""
    instance = instance_yaml()
    launcher = instance["run_launcher"]["config"]
    container_config = LAUNCHER_VALUES["runK8sConfig"]["containerConfig"]

    assert launcher["job_namespace"] == LAUNCHER_VALUES["jobNamespace"]
    assert launcher["image_pull_policy"] == LAUNCHER_VALUES["imagePullPolicy"]
    assert launcher["env_config_maps"] == names(LAUNCHER_VALUES["envConfigMaps"])
    assert launcher["env_secrets"] == names(LAUNCHER_VALUES["envSecrets"])
    assert launcher["fail_pod_on_run_failure"] == LAUNCHER_VALUES["failPodOnRunFailure"]
    assert launcher["run_k8s_config"] == {
        "container_config": container_config,
        "job_spec_config": LAUNCHER_VALUES["runK8sConfig"]["jobSpecConfig"],
    }
    assert launcher["dagster_home"] == VALUES["global"]["dagsterHome"]
    assert launcher["postgres_password_secret"] == VALUES["global"]["postgresqlSecretName"]
    postgres = instance["storage"]["postgres"]["postgres_db"]
    assert postgres["params"] == VALUES["postgresql"]["postgresqlParams"]

    concurrency = VALUES["concurrency"]
    assert concurrency["enabled"]
    assert instance["concurrency"]["pools"] == {
        "granularity": concurrency["pools"]["granularity"],
        "default_limit": concurrency["pools"]["defaultLimit"],
    }
    assert instance["concurrency"]["runs"] == {
        "max_concurrent_runs": concurrency["runs"]["maxConcurrentRuns"],
        "tag_concurrency_limits": concurrency["runs"]["tagConcurrencyLimits"],
    }
    for key, value in VALUES["additionalInstanceConfig"].items():
        assert instance[key] == value, key
    retention = VALUES["retention"]
    assert (
        instance["retention"]["sensor"]["purge_after_days"] == retention["sensor"]["purgeAfterDays"]
    )
    assert instance["compute_logs"]["class"] == VALUES["computeLogManager"]["type"]
    assert instance["telemetry"] == VALUES["telemetry"]


def test_the_code_location_shares_the_runs_settings_and_secrets():
    assert names(CODE_LOCATION["envConfigMaps"]) == names(LAUNCHER_VALUES["envConfigMaps"])
    assert names(CODE_LOCATION["envSecrets"]) == names(LAUNCHER_VALUES["envSecrets"])
    assert names(CODE_LOCATION["envConfigMaps"]) == [SETTINGS["metadata"]["name"]]
    assert CODE_LOCATION["includeConfigInLaunchedRuns"]["enabled"]


def test_the_image_the_chart_and_pyproject_name_one_code_location():
    (cmd,) = dockerfile_instruction("CMD")
    command = json.loads(cmd)
    module = PYPROJECT["tool"]["dagster"]["module_name"]
    grpc_args = CODE_LOCATION["dagsterApiGrpcArgs"]

    assert command[:3] == ["dagster", "api", "grpc"]
    assert command[command.index("-m") + 1] == module
    assert grpc_args[grpc_args.index("-m") + 1] == module
    # The chart passes `-h 0.0.0.0 -p <port>` itself, then these arguments.
    assert not {"-h", "-p", "--host", "--port"} & set(grpc_args)
    assert int(command[command.index("-p") + 1]) == CODE_LOCATION["port"]
    assert dockerfile_instruction("EXPOSE") == [str(CODE_LOCATION["port"])]
    # CMD, not ENTRYPOINT: the chart's args and the run launcher's replace it.
    assert dockerfile_instruction("ENTRYPOINT") == []

    image_name = PYPROJECT["project"]["name"]
    assert f'org.opencontainers.image.title="{image_name}"' in DOCKERFILE
    assert CODE_LOCATION["image"]["repository"].rsplit("/", 1)[1] == image_name


def test_the_image_installs_the_locked_dependencies_with_the_kubernetes_extra():
    extras = PYPROJECT["project"]["optional-dependencies"]
    syncs = [line for line in dockerfile_instruction("RUN") if line.startswith("uv sync")]

    assert syncs
    for line in syncs:
        flags = shlex.split(line)
        assert "--frozen" in flags  # uv.lock as it is, never re-resolved
        wanted = {flags[i + 1] for i, flag in enumerate(flags) if flag == "--extra"}
        assert wanted == {"kubernetes"}, line
        assert wanted <= extras.keys()
    assert any(req.startswith("dagster-k8s==") for req in extras["kubernetes"])
    # The run pods load DuckDB's extensions from these wheels: nothing is downloaded at run time.
    dependencies = " ".join(PYPROJECT["project"]["dependencies"])
    for wheel in ("ducklake", "azure", "httpfs", "postgres-scanner"):
        assert f"duckdb-extension-{wheel}==" in dependencies
    lock = tomllib.loads((REPO / "uv.lock").read_text())
    locked = {package["name"]: package["version"] for package in lock["package"]}
    family = locked["dagster-postgres"]
    assert locked["dagster-k8s"] == family


def test_the_docker_context_leaves_local_state_out_but_not_what_the_image_copies():
    ignored = {
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    copied = {
        source
        for line in dockerfile_instruction("COPY")
        if not line.startswith("--from")
        for source in line.split()[:-1]
    }

    assert {".venv", ".scout", ".dagster", ".tools"} <= ignored
    assert copied == {"pyproject.toml", "uv.lock", "README.md", "scout_assets"}
    assert not copied & ignored


def test_the_month_sensor_gives_the_warehouse_pool_scout_workers(tmp_path):
    """On an instance with the Kubernetes concurrency settings, the month rebuild sensor's
    tick sets the `warehouse` pool to SCOUT_WORKERS, and the default limit does not take it
    back (every other pool stays one at a time)."""
    workers = int(SETTINGS["data"]["SCOUT_WORKERS"])
    (tmp_path / "dagster.yaml").write_text(
        yaml.safe_dump({"concurrency": instance_yaml()["concurrency"]})
    )
    with DagsterInstance.from_config(str(tmp_path)) as instance:
        keep_pool_limit(instance, workers)
    with DagsterInstance.from_config(str(tmp_path)) as instance:
        (limit,) = instance.event_log_storage.get_pool_limits()
        assert (limit.name, limit.limit, limit.from_default) == (WAREHOUSE_POOL, workers, False)
        assert instance.global_op_concurrency_default_limit == 1
        assert instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL).slot_count == workers


def test_every_kubernetes_setting_and_secret_is_documented():
    guide = (KUBERNETES / "README.md").read_text()
    wanted = set(SETTINGS["data"]) | env_vars(INSTANCE)
    wanted |= {"SCOUT_LAKE_CATALOG_PASSWORD", "AZURE_STORAGE_CONNECTION_STRING"}
    wanted |= {"SCOUT_GDRIVE_CREDENTIALS_JSON", "postgresql-password"}
    assert sorted(name for name in wanted if name not in guide) == []

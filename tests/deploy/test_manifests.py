"""deploy/: the compose file and the Kubernetes manifests against their published schemas
(offline, from the `check-jsonschema` and `kubernetes-validate` wheels), and every command in
them against the parser that will read it (kimi-swarm's own, vLLM's)."""

from __future__ import annotations

import json
import re
import shlex
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml
from kubernetes_validate.utils import schema_contents
from referencing import Registry, Resource

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
K8S_VERSION = "1.33"
VAR = re.compile(r"\$\{(\w+)(?::?-([^}]*))?\}")


def compose() -> dict[str, Any]:
    """The compose file as `docker compose config` sees it with no variables set."""
    text = (DEPLOY / "docker-compose.yml").read_text()
    data: dict[str, Any] = yaml.safe_load(VAR.sub(lambda m: m.group(2) or "", text))
    return data


def k8s(name: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all((DEPLOY / "k8s" / name).read_text()) if d]


def kimi_args(argv: list[str], env: dict[str, str] | None = None) -> Any:
    from server.boot.cli import build_parser
    from server.boot.config import apply_config

    return apply_config(build_parser(), argv, env or {})


def vllm_engine_args(argv: list[str]) -> Any:
    """`vllm serve ARGV` as vLLM's own parser reads it, turned into engine args."""
    from vllm.engine.arg_utils import AsyncEngineArgs
    from vllm.entrypoints.launchers.cli_args import make_arg_parser
    from vllm.utils.argparse_utils import FlexibleArgumentParser

    args = make_arg_parser(FlexibleArgumentParser()).parse_args(argv)
    args.model = args.model_tag or args.model
    return AsyncEngineArgs.from_cli_args(args)


def test_the_compose_file_follows_the_compose_spec() -> None:
    schema_file = resources.files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
    schema = json.loads(schema_file.read_text())
    validator = jsonschema.validators.validator_for(schema)(schema)  # draft 2020-12
    data = compose()
    validator.validate(data)
    services = data["services"]
    for name, service in services.items():
        for needed in service.get("depends_on", {}):
            assert needed in services, f"{name} depends on unknown service {needed}"
    data["services"]["postgres"]["shm_sizee"] = "1g"  # the check can fail: a misspelt key
    with pytest.raises(jsonschema.ValidationError, match="shm_sizee"):
        validator.validate(data)


def test_compose_kimi_swarm_replicas_pool_both_vllm_ranks_and_share_postgres() -> None:
    from server.boot.cli import upstream_urls

    services = compose()["services"]
    for name in ("kimi-swarm-a", "kimi-swarm-b"):
        args = kimi_args(services[name]["command"])
        assert upstream_urls(args) == ["http://vllm-0:8000/v1", "http://vllm-1:8000/v1"]
        assert args.upstream_health_path == "/health"
        assert args.swarm_store_path.startswith("postgresql://kimi:kimi@postgres:5432/")


def test_compose_vllm_services_are_one_data_parallel_group_in_external_lb_mode() -> None:
    services = compose()["services"]
    for rank in (0, 1):
        engine = vllm_engine_args(services[f"vllm-{rank}"]["command"])
        assert (engine.model, engine.tensor_parallel_size) == ("moonshotai/Kimi-K2.5", 8)
        assert (engine.data_parallel_size, engine.data_parallel_rank) == (2, rank)
        assert engine.data_parallel_address == "vllm-0" and engine.enable_expert_parallel
        assert engine.enable_prefix_caching


def definition_validator(name: str) -> jsonschema.Draft202012Validator:
    """A validator for one Kubernetes type from kubernetes-validate's bundled strict schemas."""
    version = f"v{K8S_VERSION}.0-local-strict"
    schema = schema_contents(f"kubernetes-json-schema/{version}/{name}.json", K8S_VERSION)
    defs = schema_contents(f"kubernetes-json-schema/{version}/_definitions.json", K8S_VERSION)
    registry = Resource.from_contents(defs) @ (Resource.from_contents(schema) @ Registry())
    return jsonschema.Draft202012Validator(schema, registry=registry)


def test_kimi_swarm_deployment_and_service_are_valid_kubernetes() -> None:
    docs = k8s("kimi-swarm.yaml")
    assert [d["kind"] for d in docs] == ["Deployment", "Service"]
    for doc in docs:
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
    bad = json.loads(json.dumps(docs[0]))
    bad["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = "http"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, K8S_VERSION, strict=True)
    selector = docs[1]["spec"]["selector"]
    assert selector.items() <= docs[0]["spec"]["template"]["metadata"]["labels"].items()


def test_kimi_swarm_pod_args_and_env_parse() -> None:
    from server.boot.cli import upstream_urls

    container = k8s("kimi-swarm.yaml")[0]["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e.get("value", "postgresql://u:p@db/kimi_swarm") for e in container["env"]}
    args = kimi_args(container["args"], env)
    assert upstream_urls(args) == ["http://vllm-0.vllm:8000/v1", "http://vllm-1.vllm:8000/v1"]
    assert args.swarm_store_path == "postgresql://u:p@db/kimi_swarm"  # from the Secret's env var
    assert args.log_format == "json"


def test_the_engine_leaderworkerset_pods_are_valid_and_run_kimi_on_2x8_gpus() -> None:
    (lws,) = k8s("vllm-lws.yaml")
    assert (lws["apiVersion"], lws["kind"]) == ("leaderworkerset.x-k8s.io/v1", "LeaderWorkerSet")
    template = lws["spec"]["leaderWorkerTemplate"]
    assert template["size"] == 2 and isinstance(lws["spec"]["replicas"], int)
    pod = definition_validator("podtemplatespec-v1")
    for role in ("leaderTemplate", "workerTemplate"):
        pod.validate(template[role])  # the CRD embeds core PodTemplateSpecs
    leader = template["leaderTemplate"]["spec"]["containers"][0]
    serve = leader["args"][0].split("vllm serve ", 1)[1]
    engine = vllm_engine_args(shlex.split(serve))
    assert (engine.tensor_parallel_size, engine.pipeline_parallel_size) == (8, 2)
    assert engine.distributed_executor_backend == "ray" and engine.model == "moonshotai/Kimi-K2.5"
    gpus = [
        int(template[r]["spec"]["containers"][0]["resources"]["limits"]["nvidia.com/gpu"])
        for r in ("leaderTemplate", "workerTemplate")
    ]
    assert sum(gpus) == engine.tensor_parallel_size * engine.pipeline_parallel_size == 16

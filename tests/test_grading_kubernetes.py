"""The Kubernetes scale-out manifest is valid YAML with limits, deadlines and isolation set."""

from __future__ import annotations

import pytest

from medganlab.cli import main
from medganlab.grading.kubernetes import write_manifest

yaml = pytest.importorskip("yaml")


def test_manifest_is_valid_yaml_with_limits(tmp_path):
    path = write_manifest(tmp_path / "job.yaml", "00_setup_and_data", ["ada", "bob", "cy"])
    docs = list(yaml.safe_load_all(path.read_text()))
    kinds = [d["kind"] for d in docs]
    assert kinds == ["ConfigMap", "NetworkPolicy", "Job"]
    assert docs[0]["data"]["students.txt"].split() == ["ada", "bob", "cy"]
    policy = docs[1]["spec"]
    assert policy["policyTypes"] == ["Ingress", "Egress"] and "egress" not in policy
    job = docs[2]["spec"]
    assert job["completionMode"] == "Indexed" and job["completions"] == 3
    assert job["backoffLimitPerIndex"] == 0 and job["activeDeadlineSeconds"] > 0
    pod = job["template"]["spec"]
    assert pod["restartPolicy"] == "Never" and pod["automountServiceAccountToken"] is False
    assert pod["activeDeadlineSeconds"] > 0
    (container,) = pod["containers"]
    for key in ("cpu", "memory", "ephemeral-storage"):
        assert container["resources"]["limits"][key], key
        assert container["resources"]["requests"][key] == container["resources"]["limits"][key]
    security = container["securityContext"]
    assert security["runAsNonRoot"] and not security["allowPrivilegeEscalation"]
    assert security["readOnlyRootFilesystem"] and security["capabilities"]["drop"] == ["ALL"]
    mounts = {m["name"]: m for m in container["volumeMounts"]}
    for name in ("course", "submissions", "data"):
        assert mounts[name]["readOnly"], f"{name} must be read-only in the pod"


def test_grade_command_writes_the_manifest(tmp_path, capsys):
    subs = tmp_path / "subs"
    (subs / "ada").mkdir(parents=True)
    (subs / "ada" / "00_setup_and_data.ipynb").write_text("{}")
    (subs / "bob.ipynb").write_text("{}")
    target = tmp_path / "job.yaml"
    argv = ["grade", "00_setup_and_data", "--submissions", str(subs), "--kubernetes", str(target)]
    assert main(argv) == 0
    docs = list(yaml.safe_load_all(target.read_text()))
    assert docs[2]["spec"]["completions"] == 2
    assert "one Kubernetes pod per submission (2)" in capsys.readouterr().out

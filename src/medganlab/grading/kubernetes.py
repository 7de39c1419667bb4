"""Scale-out on paper: grade a cohort as a Kubernetes Indexed Job, one submission per pod.

``medganlab grade ASSIGNMENT --submissions DIR --kubernetes job.yaml`` writes the manifest
instead of grading. Each pod runs the hub's image and grades one hand-in (the pod's
``JOB_COMPLETION_INDEX`` picks the line of ``students.txt``) with the same code and sandbox
as a laptop: ``medganlab grade --only <student>``. The pod itself adds a second wall:

- non-root user, no privilege escalation, every capability dropped, read-only root file
  system, no service-account token, ``RuntimeDefault`` seccomp (bubblewrap needs user
  namespaces: on clusters without them set ``MEDGANLAB_SANDBOX=user`` and rely on the pod);
- CPU, memory and ephemeral-storage requests and limits, a deadline per pod and for the Job,
  no retries (a crash is a row, not a retry loop);
- submissions, data sets and the course sources are read-only volumes (the sources come from
  a Secret, never from the image students use); results go to a writable volume that only
  the grader's process writes, after the kernel is gone;
- a NetworkPolicy with no egress and no ingress for the grading pods.

Before the Job, run the solution once where the data volume is writable (``medganlab grade``
on any one hand-in does it) so the pods can skip that run (``--no-reference``). Each pod
writes ``results/<student>/grades.json``; join them with ``jq -s add`` for the cohort sheet.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["job_manifest", "write_manifest"]

DEFAULTS = {
    "image": "ghcr.io/medganlab/hub:latest",
    "namespace": "grading",
    "cpu": "1",
    "memory": "3Gi",
    "storage": "2Gi",
    "parallelism": 20,
    "pod_seconds": 1200,
}


def job_manifest(assignment: str, students: list[str], **options) -> list[dict]:
    """The Kubernetes objects (a ConfigMap of students, a NetworkPolicy, an Indexed Job)."""
    o = {**DEFAULTS, **options}
    name = f"grade-{assignment.replace('_', '-').lower()}"[:52]
    labels = {"app": "medganlab-grade", "assignment": assignment.replace("_", "-")}
    limits = {"cpu": o["cpu"], "memory": o["memory"], "ephemeral-storage": o["storage"]}
    script = (
        "set -eu\n"
        'student=$(sed -n "$((JOB_COMPLETION_INDEX + 1))p" /config/students.txt)\n'
        f'medganlab grade {assignment} --submissions /submissions --only "$student" '
        '--workers 1 --no-reference --out "/results/$student"\n'
    )
    container = {
        "name": "grade",
        "image": o["image"],
        "command": ["/bin/sh", "-c", script],
        "env": [
            {"name": "MEDGANLAB_HOME", "value": "/course"},
            {"name": "MEDGANLAB_DATA", "value": "/data"},
            {"name": "MEDGANLAB_PROFILE", "value": "smoke"},
            {"name": "HOME", "value": "/tmp"},
        ],
        "resources": {"requests": dict(limits), "limits": dict(limits)},
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": 1000,
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "volumeMounts": [
            {"name": "course", "mountPath": "/course", "readOnly": True},
            {"name": "submissions", "mountPath": "/submissions", "readOnly": True},
            {"name": "data", "mountPath": "/data", "readOnly": True},
            {"name": "config", "mountPath": "/config", "readOnly": True},
            {"name": "results", "mountPath": "/results"},
            {"name": "scratch", "mountPath": "/tmp"},
        ],
    }
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": o["namespace"], "labels": labels},
        "spec": {
            "completionMode": "Indexed",
            "completions": len(students),
            "parallelism": min(o["parallelism"], max(1, len(students))),
            "backoffLimitPerIndex": 0,
            "maxFailedIndexes": len(students),
            "activeDeadlineSeconds": o["pod_seconds"] * max(1, len(students)),
            "ttlSecondsAfterFinished": 86400,
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "restartPolicy": "Never",
                    "automountServiceAccountToken": False,
                    "enableServiceLinks": False,
                    "activeDeadlineSeconds": o["pod_seconds"],
                    "securityContext": {"runAsNonRoot": True, "fsGroup": 1000},
                    "containers": [container],
                    "volumes": [
                        {"name": "course", "secret": {"secretName": "medganlab-course-sources"}},
                        {
                            "name": "submissions",
                            "persistentVolumeClaim": {"claimName": "submissions", "readOnly": True},
                        },
                        {
                            "name": "data",
                            "persistentVolumeClaim": {
                                "claimName": "medganlab-data",
                                "readOnly": True,
                            },
                        },
                        {"name": "config", "configMap": {"name": f"{name}-students"}},
                        {
                            "name": "results",
                            "persistentVolumeClaim": {"claimName": "grading-results"},
                        },
                        {"name": "scratch", "emptyDir": {"sizeLimit": o["storage"]}},
                    ],
                },
            },
        },
    }
    students_map = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": f"{name}-students", "namespace": o["namespace"]},
        "data": {"students.txt": "".join(f"{s}\n" for s in students)},
    }
    policy = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": f"{name}-isolated", "namespace": o["namespace"]},
        "spec": {"podSelector": {"matchLabels": labels}, "policyTypes": ["Ingress", "Egress"]},
    }
    return [students_map, policy, job]


def write_manifest(path: Path, assignment: str, students: list[str], **options) -> Path:
    """Write :func:`job_manifest` as a multi-document YAML file."""
    import yaml

    docs = job_manifest(assignment, students, **options)
    header = (
        f"# medganlab grade {assignment}: one pod per submission ({len(students)}).\n"
        "# Apply with: kubectl apply -f this-file (see medganlab/grading/kubernetes.py).\n"
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(header + yaml.safe_dump_all(docs, sort_keys=False))
    return path

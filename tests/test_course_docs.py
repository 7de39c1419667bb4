"""The course materials hold together: links, the hub examples, time budgets, the objectives
map, the instructor guide's coverage, and the course's public address."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import yaml

from medganlab import authoring, course_info
from medganlab.survey.instrument import ASSIGNMENTS as SURVEY_ASSIGNMENTS

from conftest import REPO, make_course

COURSE = REPO / "course"
DOCS = sorted(COURSE.glob("*.md"))
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
SOURCES = {p.parent.name: p for p in authoring.source_files(REPO / "solutions")}


def _anchors(markdown: str) -> set[str]:
    """GitHub-style heading anchors."""
    out = set()
    for line in markdown.splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            out.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return out


def _budget(source: Path) -> int:
    match = re.search(r"What you'll do\*\* \(about (\d+) minutes\)", source.read_text())
    assert match, f"{source.name}: no '**What you'll do** (about N minutes)' header"
    return int(match.group(1))


# --- links -----------------------------------------------------------------------------


@pytest.mark.parametrize("doc", DOCS, ids=[d.name for d in DOCS])
def test_every_relative_link_in_course_docs_resolves(doc):
    broken = []
    for target in LINK.findall(doc.read_text()):
        if re.match(r"^[a-z]+:", target):
            continue  # external (https:, mailto:)
        path_part, _, anchor = target.partition("#")
        path = (doc.parent / path_part).resolve() if path_part else doc
        if not path.exists():
            broken.append(f"{target} (no {path.relative_to(REPO)})")
        elif anchor and path.suffix == ".md" and anchor not in _anchors(path.read_text()):
            broken.append(f"{target} (no heading #{anchor})")
    assert not broken, f"{doc.name}: broken links: {broken}"


def test_the_course_files_link_each_other():
    text = {d.name: d.read_text() for d in DOCS}
    for name in ("syllabus.md", "schedule.md", "instructor_guide.md", "learning_objectives.md"):
        assert name in text, f"course/{name} is missing"
    for target in ("schedule.md", "learning_objectives.md", "instructor_guide.md"):
        assert f"]({target})" in text["syllabus.md"], f"syllabus does not link {target}"
    assert "](syllabus.md)" in text["learning_objectives.md"]


# --- hub examples ----------------------------------------------------------------------


def _dockerfile_instructions(path: Path) -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", path.read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        out.append((keyword.upper(), rest.strip()))
    return out


def test_dockerfile_parses_and_installs_the_pinned_environment():
    instructions = _dockerfile_instructions(COURSE / "hub" / "Dockerfile")
    known = {"ARG", "FROM", "RUN", "USER", "WORKDIR", "COPY", "ENV", "LABEL", "EXPOSE", "CMD"}
    assert {k for k, _ in instructions} <= known, instructions
    assert instructions[0][0] in ("ARG", "FROM") and any(k == "FROM" for k, _ in instructions)
    runs = " ".join(rest for k, rest in instructions if k == "RUN")
    assert 'pip install --no-cache-dir -c constraints.txt -e ".[${EXTRAS}]"' in runs
    envs = " ".join(rest for k, rest in instructions if k == "ENV")
    for name in ("MEDGANLAB_REFERENCE_ARTIFACTS", "MEDGANLAB_SURVEY_INBOX", "MEDGANLAB_DATA"):
        assert name in envs, f"the image should set {name}"
    assert "@jupyter/nbgrader:create-assignment" in runs, "students must not create assignments"


def test_dockerfile_copies_files_that_exist():
    missing = []
    for keyword, rest in _dockerfile_instructions(COURSE / "hub" / "Dockerfile"):
        if keyword != "COPY":
            continue
        args = [a for a in shlex.split(rest) if not a.startswith("--")]
        missing += [src for src in args[:-1] if not (REPO / src).exists()]
    assert not missing, f"the Dockerfile copies files the repository lacks: {missing}"


def test_z2jh_config_parses_with_gpu_profiles_roles_and_volumes():
    config = yaml.safe_load((COURSE / "hub" / "config.yaml").read_text())
    single = config["singleuser"]
    profiles = single["profileList"]
    gpus = [p for p in profiles if "nvidia.com/gpu" in str(p)]
    assert len(gpus) >= 2, "expected T4 and A100 profiles"
    for profile in profiles:
        env = profile["kubespawner_override"]["environment"]
        assert env["MEDGANLAB_PROFILE"] in ("cpu", "gpu"), profile["display_name"]
    for profile in gpus:
        override = profile["kubespawner_override"]
        assert override["extra_resource_limits"]["nvidia.com/gpu"] == "1"
    roles = config["hub"]["loadRoles"]
    assert "access:services!service=medganlab" in roles["formgrade-medganlab"]["scopes"]
    groups = config["hub"]["config"]["JupyterHub"]["load_groups"]
    assert {"nbgrader-medganlab", "formgrade-medganlab"} <= set(groups)
    mounts = {m["mountPath"] for m in single["storage"]["extraVolumeMounts"]}
    assert {"/srv/nbgrader/exchange", "/srv/medganlab/reference"} <= mounts


def test_nbgitpuller_links_pass_the_branch():
    texts = (COURSE / "hub" / "config.yaml").read_text() + (
        COURSE / "instructor_guide.md"
    ).read_text()
    links = re.findall(r"https://\S+/git-pull\?\S+", texts)
    assert links, "no nbgitpuller link in the examples"
    for link in links:
        query = parse_qs(urlparse(link).query)
        assert query.get("branch"), f"nbgitpuller defaults to master: pass the branch in {link}"
        assert query.get("repo") and query.get("urlpath"), link


# --- syllabus, survey and the notebooks agree ------------------------------------------


@pytest.mark.parametrize("assignment", sorted(SOURCES))
def test_syllabus_time_budget_matches_what_youll_do(assignment):
    minutes = _budget(SOURCES[assignment])
    syllabus = (COURSE / "syllabus.md").read_text()
    rows = [r for r in syllabus.splitlines() if r.startswith("|") and f"/{assignment}.ipynb" in r]
    assert rows, f"the syllabus has no row linking {assignment}"
    assert any(f"| {minutes} min |" in r for r in rows), (
        f"{assignment}: its 'What you'll do' says {minutes} min; the syllabus says {rows}"
    )


@pytest.mark.parametrize("assignment", sorted(set(SOURCES) & set(SURVEY_ASSIGNMENTS)))
def test_survey_time_items_quote_each_notebooks_budget(assignment):
    assert SURVEY_ASSIGNMENTS[assignment][1] == _budget(SOURCES[assignment])


def _map_sections() -> dict[str, str]:
    text = (COURSE / "learning_objectives.md").read_text()
    parts = re.split(r"^## (\d\d) ", text, flags=re.MULTILINE)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts), 2)}


@pytest.mark.parametrize("assignment", sorted(SOURCES))
def test_objectives_map_names_every_graded_cell_and_real_sections(assignment):
    section = _map_sections().get(assignment[:2])
    assert section, f"learning_objectives.md has no section for {assignment}"
    nb = authoring.to_notebook(SOURCES[assignment])
    graded = [
        c.metadata["nbgrader"]["grade_id"]
        for c in nb.cells
        if c.metadata.get("nbgrader", {}).get("grade")
    ]
    headings = {
        line[3:].strip()
        for c in nb.cells
        if c.cell_type == "markdown"
        for line in c.source.splitlines()
        if line.startswith("## ")
    }
    if assignment in course_info.UNGRADED:
        assert not graded, f"{assignment} is listed as ungraded but has graded cells"
    assert "(planned)" not in section.splitlines()[0], (
        f"{assignment} has landed: replace its planned rows in learning_objectives.md"
    )
    named = set(re.findall(r"`([a-z0-9_]+)` \(\d+", section))
    assert not set(graded) - named, (
        f"{assignment}: graded cells not in the map: {set(graded) - named}"
    )
    assert not named - set(graded), (
        f"{assignment}: the map names unknown cells: {named - set(graded)}"
    )
    rows = [r.split("|") for r in section.splitlines() if r.startswith("| ") and "---" not in r]
    for row in rows[1:]:
        assert row[2].strip() in headings, f"{assignment}: no section '## {row[2].strip()}'"


def test_instructor_guide_covers_every_point_of_the_brief():
    guide = (COURSE / "instructor_guide.md").read_text()
    needed = {
        "nbgrader exchange": "Exchange.root",
        "several courses": "path_includes_course",
        "formgrader roles": "access:services!service=",
        "JupyterHub >= 4.1": "JupyterHub ≥ 4.1",
        "Postgres gradebook": "postgresql",
        "the hub image": "hub/Dockerfile",
        "pinned install": "pip install -c constraints.txt",
        "z2jh config": "hub/config.yaml",
        "nbgitpuller branch": "&branch=",
        "Colab badges": "Open in Colab",
        "zip_collect": "nbgrader zip_collect",
        "GPU sizing T4": "T4",
        "GPU sizing A100": "A100",
        "reference artifacts": "MEDGANLAB_REFERENCE_ARTIFACTS",
        "reference zip": "release page",
        "survey": "medganlab survey aggregate",
        "FAQ": "## FAQ",
    }
    missing = [what for what, marker in needed.items() if marker not in guide]
    assert not missing, f"the instructor guide does not cover: {missing}"


# --- the course's public address -------------------------------------------------------


def test_settings_parse_and_build_colab_urls():
    settings = course_info.load_settings(REPO)
    assert settings.colab_url("01_dcgan").startswith("https://colab.research.google.com/github/")
    assert settings.colab_url("01_dcgan").endswith(
        f"/blob/{settings.ref}/notebooks/01_dcgan/01_dcgan.ipynb"
    )
    with pytest.raises(ValueError, match="github.com"):
        course_info.CourseSettings(repository="https://gitlab.com/a/b", ref="main")


@pytest.mark.parametrize("assignment", sorted(SOURCES))
def test_sources_take_the_address_from_the_settings(assignment):
    text = SOURCES[assignment].read_text()
    own = r"https://(?:colab\.research\.google\.com/github/|github\.com/)[\w.-]+/medganlab\b\S*"
    hard = re.findall(own, text)  # links to the course's own repository (others are fine)
    assert not hard, (
        f"{SOURCES[assignment].name}: hard-coded address {hard[0]}; write {{{{ colab_url }}}}, "
        "{{ repository_url }} and {{ course_ref }} (filled in from course/settings.toml)"
    )
    for token in ("{{ colab_url }}", "{{ repository_url }}@{{ course_ref }}"):
        assert token in text, f"{SOURCES[assignment].name}: no {token} (badge / install cell)"


@pytest.mark.parametrize("folder", ["solutions", "notebooks"])
def test_every_notebook_carries_the_configured_address(folder):
    settings = course_info.load_settings(REPO)
    for assignment in SOURCES:
        path = REPO / folder / assignment / f"{assignment}.ipynb"
        text = "".join(
            c["source"] if isinstance(c["source"], str) else "".join(c["source"])
            for c in json.loads(path.read_text())["cells"]
        )
        assert "{{" not in text, f"{path}: an unsubstituted {{{{ token }}}} (run make release)"
        assert settings.colab_url(assignment) in text, f"{path}: stale Colab badge (make release)"
        assert f"git+{settings.repository}@{settings.ref}" in text, f"{path}: stale install cell"


def test_a_release_build_refuses_a_placeholder_address(monkeypatch):
    import os

    settings = course_info.load_settings(REPO)
    if not os.environ.get("MEDGANLAB_RELEASE_BUILD"):
        assert course_info.CourseSettings("https://github.com/OWNER/medganlab", "v1").is_placeholder
        assert not course_info.CourseSettings(
            "https://github.com/uni-x/medganlab", "v1"
        ).is_placeholder
        pytest.skip("not a release build (set MEDGANLAB_RELEASE_BUILD=1 to enforce)")
    assert not settings.is_placeholder, (
        f"{settings.source}: the public address {settings.repository} is a placeholder"
    )


def test_generation_substitutes_the_address(tmp_path, monkeypatch):
    source = (
        "# %% [markdown]\n# [badge]({{ colab_url }}) [repo]({{repository_url}})\n\n"
        '# %%\n# %pip install "medganlab @ git+{{ repository_url }}@{{ course_ref }}"\n'
    )
    root = make_course(tmp_path / "c", {"42_x": source})
    (root / "course").mkdir()
    (root / "course" / "settings.toml").write_text(
        '[public]\nrepository = "https://github.com/uni-x/medlab"\nref = "2027-spring"\n'
    )
    monkeypatch.delenv("MEDGANLAB_COURSE_SETTINGS", raising=False)
    nb = authoring.to_notebook(root / "solutions" / "42_x" / "42_x.py")
    assert nb.cells[0].source == (
        "[badge](https://colab.research.google.com/github/uni-x/medlab/blob/2027-spring/"
        "notebooks/42_x/42_x.ipynb) [repo](https://github.com/uni-x/medlab)"
    )
    assert "git+https://github.com/uni-x/medlab@2027-spring" in nb.cells[1].source

"""The CI workflow for the project's users runs what the README says and installs what setup needs.

GitHub runs it, not this machine; what can be checked here is that it stays in step with the
README's test command and with the system packages scripts/setup.sh asks for.
"""

from __future__ import annotations

import re

from devstack import paths

WORKFLOW = paths.ROOT / ".github" / "workflows" / "test.yml"


def test_the_workflow_runs_the_readmes_test_command() -> None:
    readme = (paths.ROOT / "README.md").read_text()
    command = re.search(r"^(make \w+) +# runs every test suite", readme, flags=re.MULTILINE)
    assert command, "the README names its test command"
    assert re.search(rf"^\s+run: {re.escape(command.group(1))}$", WORKFLOW.read_text(), flags=re.MULTILINE)


def test_the_workflow_installs_every_system_package_setup_needs() -> None:
    setup = (paths.ROOT / "scripts" / "setup.sh").read_text()
    needed = set(re.findall(r"need_pkgs\+=\(([\w.-]+)\)", setup))
    assert needed, "scripts/setup.sh lists the system packages it needs"
    workflow = WORKFLOW.read_text()
    commands = re.findall(r"apt-get install[^\n]*", workflow.replace("\\\n", " "))
    installed = set(re.findall(r"[\w.-]+", " ".join(commands)))
    # Ubuntu's chromium package is only a stub for a snap: the workflow gives the browser tests
    # the runner's own Chrome through CHROMIUM_PATH instead.
    if re.search(r"^\s+CHROMIUM_PATH: /\S+$", workflow, flags=re.MULTILINE):
        installed.add("chromium")
    assert needed <= installed, needed - installed
    # setup copies pg_net's emulation where only root may write; the workflow does it with sudo.
    assert "sudo cp devstack/platform/pg_net/*" in workflow

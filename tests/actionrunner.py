"""Runs a composite action's steps the way GitHub's runner does: each ``run:`` script through
``bash --noprofile --norc -eo pipefail``, expressions in ``env:``/``with:``/``if:`` evaluated,
``GITHUB_OUTPUT`` read back after each step, later steps skipped after a failure unless their
condition says ``always()``. ``uses:`` steps are recorded (the test checks their inputs), not
run: setup-python is stood in for by putting a fresh virtual environment first on PATH."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any, NamedTuple

import yaml

EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
SHELL = ("bash", "--noprofile", "--norc", "-eo", "pipefail")


class StepRun(NamedTuple):
    name: str
    uses: str | None
    inputs: dict[str, str]
    returncode: int | None  # None: skipped, or a `uses:` step
    stdout: str
    stderr: str


class ActionRun(NamedTuple):
    steps: list[StepRun]
    outputs: dict[str, str]
    failed: bool

    def step(self, name: str) -> StepRun:
        return next(s for s in self.steps if name in (s.name, s.uses))

    @property
    def log(self) -> str:
        return "".join(s.stdout + s.stderr for s in self.steps)


class Runner:
    def __init__(self, action: Path, env: dict[str, str], workspace: Path, temp: Path) -> None:
        self.spec: dict[str, Any] = yaml.safe_load(action.read_text())
        self.action_path = action.parent
        self.env = env
        self.workspace = workspace
        self.temp = temp

    def run(self, inputs: dict[str, str], *, skip: tuple[str, ...] = ()) -> ActionRun:
        declared = self.spec.get("inputs", {})
        values = {k: str(inputs.get(k, v.get("default", ""))) for k, v in declared.items()}
        context: dict[str, Any] = {"inputs": values, "steps": {}}
        steps: list[StepRun] = []
        failed = False
        for n, step in enumerate(self.spec["runs"]["steps"]):
            name = step.get("name") or step.get("uses", f"step {n}")
            if name in skip or not _condition(step.get("if"), context, failed):
                steps.append(StepRun(name, step.get("uses"), {}, None, "", ""))
                continue
            done = self._step(step, name, context)
            steps.append(done)
            failed = failed or (done.returncode or 0) != 0
        outputs = {
            key: _evaluate(str(spec["value"]), context)
            for key, spec in self.spec.get("outputs", {}).items()
        }
        return ActionRun(steps, outputs, failed)

    def _step(self, step: dict[str, Any], name: str, context: dict[str, Any]) -> StepRun:
        inputs = {k: _evaluate(str(v), context) for k, v in step.get("with", {}).items()}
        if "uses" in step:
            return StepRun(name, step["uses"], inputs, None, "", "")
        output = self.temp / f"output-{len(context['steps'])}-{os.urandom(4).hex()}"
        output.touch()
        env = {
            **self.env,
            **{k: _evaluate(str(v), context) for k, v in step.get("env", {}).items()},
            "GITHUB_OUTPUT": str(output),
            "GITHUB_ACTION_PATH": str(self.action_path),
            "GITHUB_WORKSPACE": str(self.workspace),
            "RUNNER_TEMP": str(self.temp),
        }
        script = self.temp / f"step-{os.urandom(4).hex()}.sh"
        script.write_text(_evaluate(step["run"], context))
        proc = subprocess.run(
            [*SHELL, str(script)],
            cwd=self.workspace,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
        )
        if "id" in step:
            context["steps"][step["id"]] = {"outputs": _outputs(output.read_text())}
        return StepRun(name, None, inputs, proc.returncode, proc.stdout, proc.stderr)


def _outputs(text: str) -> dict[str, str]:
    """GITHUB_OUTPUT lines: ``name=value`` or the ``name<<DELIMITER`` multi-line form."""
    out: dict[str, str] = {}
    lines = iter(text.splitlines())
    for line in lines:
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            key, delimiter = line.split("<<", 1)
            body = []
            for inner in lines:
                if inner == delimiter:
                    break
                body.append(inner)
            out[key] = "\n".join(body)
        elif "=" in line:
            key, value = line.split("=", 1)
            out[key] = value
    return out


def _lookup(path: str, context: dict[str, Any]) -> str:
    value: Any = context
    for part in path.split("."):
        value = value.get(part, "") if isinstance(value, dict) else ""
    return str(value) if value is not None else ""


def _term(text: str, context: dict[str, Any], failed: bool) -> Any:
    text = text.strip()
    if text == "always()":
        return True
    if text == "success()":
        return not failed
    if text == "failure()":
        return failed
    if text.startswith("'") and text.endswith("'"):
        return text[1:-1]
    return _lookup(text, context)


def _expression(text: str, context: dict[str, Any], failed: bool) -> Any:
    """The subset of GitHub's expression language the action uses: ``&&``, ``!=``, ``==``,
    ``always()``, ``success()``, ``failure()``, quoted strings and context lookups."""
    if "&&" in text:
        return all(_expression(part, context, failed) for part in text.split("&&"))
    for op in ("!=", "=="):
        if op in text:
            left, right = (_term(t, context, failed) for t in text.split(op, 1))
            return (left != right) if op == "!=" else (left == right)
    return _term(text, context, failed)


def _evaluate(text: str, context: dict[str, Any]) -> str:
    return EXPR.sub(lambda m: str(_expression(m.group(1), context, False)), text)


def _condition(cond: object, context: dict[str, Any], failed: bool) -> bool:
    if cond is None:
        return not failed
    text = str(cond)
    match = EXPR.fullmatch(text.strip())
    inner = match.group(1) if match else text
    value = _expression(inner, context, failed)
    status_checked = any(f in inner for f in ("always()", "failure()", "success()"))
    return bool(value) and (status_checked or not failed)

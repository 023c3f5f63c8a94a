"""Read a ROS 2 YAML launch file into a plan: resolved arguments and one command line per node.

Entities: `arg` (name, default, description, choice), `let` (name, value) and `node` (pkg, exec,
name, namespace, output, param, remap, args, ros_args, env, on_exit); `if`/`unless` on each.
Semantics follow launch/launch_ros: command-line arguments override declared defaults (and are
visible to `$(var)` even if undeclared), a declared argument without default must be given,
a relative namespace is made absolute, and node command lines are
`EXEC [args] --ros-args -r __node:=NAME -r __ns:=NS --params-file F -p n:=v -r from:=to [ros_args]`.
"""

from __future__ import annotations

import json
import os
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from vlm_ros.launch_runner.errors import LaunchError
from vlm_ros.launch_runner.packages import find_executable
from vlm_ros.launch_runner.substitutions import Context, resolve

OUTPUTS = ("screen", "log", "both")
_ARG_KEYS = {"name", "default", "description", "choice", "if", "unless"}
_LET_KEYS = {"name", "value", "if", "unless"}
_NODE_KEYS = {
    "pkg", "exec", "name", "namespace", "output", "param", "remap", "args", "ros_args", "env", "on_exit",
    "if", "unless",
}


@dataclass(frozen=True)
class ArgSpec:
    """A declared launch argument, before resolution (for `--show-args`)."""

    name: str
    default: str | None
    description: str
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class NodeSpec:
    """One node to start: its full command line and how its output and exit are handled."""

    label: str  # output prefix: the node name, else the executable (made unique)
    package: str
    executable: str
    command: list[str]
    name: str | None = None
    namespace: str | None = None
    output: str = "log"
    shutdown_on_exit: bool = False  # on_exit: shutdown, i.e. a required node
    env: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LaunchPlan:
    """A launch file with its arguments resolved: what `LaunchSession` starts."""

    path: Path
    arguments: dict[str, str]  # every launch configuration, declared or given
    nodes: list[NodeSpec]
    unused_arguments: list[str]  # given on the command line but never declared


class _Reader:
    """Walks the YAML, tracking a location like `file.yaml: launch[2].node.param[0]` for errors."""

    def __init__(self, path: Path, args: Mapping[str, str], prefixes: Sequence[Path]) -> None:
        self.path = path
        self.ctx = Context(launch_file=path, configs=dict(args), prefixes=tuple(prefixes))
        self.declared: set[str] = set()
        self.nodes: list[NodeSpec] = []

    def where(self, key: str) -> str:
        return f"{self.path}: {key}"

    def fail(self, key: str, sentence: str) -> LaunchError:
        return LaunchError(f"{self.where(key)}: {sentence}")

    def mapping(self, value: Any, key: str, allowed: set[str], required: Sequence[str]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(key, f"expected a mapping of keys ({', '.join(sorted(allowed))}), got {value!r}.")
        for k in value:
            if k not in allowed:
                raise self.fail(f"{key}.{k}", f"unknown key {k!r}; allowed keys are {', '.join(sorted(allowed))}.")
        for k in required:
            if value.get(k) in (None, ""):
                raise self.fail(key, f"missing required key {k!r}.")
        return value

    def text(self, value: Any, key: str) -> str:
        """A scalar attribute with substitutions resolved."""
        if isinstance(value, (dict, list)) or value is None:
            raise self.fail(key, f"expected a single value, got {value!r}.")
        if isinstance(value, bool):
            return "true" if value else "false"
        return resolve(str(value), self.ctx, self.where(key))

    def items(self, value: Any, key: str) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(key, f"expected a list, got {value!r}.")
        return value

    def condition(self, entity: dict[str, Any], key: str) -> bool:
        """launch's `if`/`unless`: true/1 or false/0, after substitution."""
        for attr, wanted in (("if", True), ("unless", False)):
            if attr in entity:
                raw = self.text(entity[attr], f"{key}.{attr}").strip().lower()
                if raw not in ("true", "1", "false", "0"):
                    raise self.fail(f"{key}.{attr}", f"condition must be true/false or 1/0, got {raw!r}.")
                if (raw in ("true", "1")) != wanted:
                    return False
        return True

    # ---- entities -------------------------------------------------------------------------------

    def arg(self, entity: Any, key: str) -> None:
        entity = self.mapping(entity, key, _ARG_KEYS, ["name"])
        if not self.condition(entity, key):
            return
        name = str(entity["name"])
        self.declared.add(name)
        if name not in self.ctx.configs:
            if "default" not in entity:
                description = entity.get("description", "")
                raise LaunchError(
                    f"{self.where(key)}: required launch argument {name!r} was not given"
                    + (f" ({description})" if description else "")
                    + f"; pass {name}:=VALUE."
                )
            self.ctx.configs[name] = self.text(entity["default"], f"{key}.default")
        choices = [self.text(c.get("value") if isinstance(c, dict) else c, f"{key}.choice[{i}]")
                   for i, c in enumerate(self.items(entity.get("choice"), f"{key}.choice"))]
        if choices and self.ctx.configs[name] not in choices:
            raise self.fail(key, f"argument {name!r} is {self.ctx.configs[name]!r}; it must be one of "
                                 f"{', '.join(choices)}.")

    def let(self, entity: Any, key: str) -> None:
        entity = self.mapping(entity, key, _LET_KEYS, ["name"])
        if "value" not in entity:
            raise self.fail(key, "missing required key 'value'.")
        if self.condition(entity, key):
            self.ctx.configs[str(entity["name"])] = self.text(entity["value"], f"{key}.value")

    def node(self, entity: Any, key: str) -> None:
        entity = self.mapping(entity, key, _NODE_KEYS, ["pkg", "exec"])
        if not self.condition(entity, key):
            return
        package = self.text(entity["pkg"], f"{key}.pkg")
        executable = self.text(entity["exec"], f"{key}.exec")
        name = self.text(entity["name"], f"{key}.name") if "name" in entity else None
        namespace = self.text(entity["namespace"], f"{key}.namespace") if "namespace" in entity else None
        if namespace and not namespace.startswith("/"):
            namespace = "/" + namespace  # launch_ros makes a relative namespace absolute
        output = self.text(entity.get("output", "log"), f"{key}.output")
        if output not in OUTPUTS:
            raise self.fail(f"{key}.output", f"output must be one of {', '.join(OUTPUTS)}, got {output!r}.")
        on_exit = self.text(entity["on_exit"], f"{key}.on_exit") if "on_exit" in entity else ""
        if on_exit not in ("", "shutdown"):
            raise self.fail(f"{key}.on_exit", f"only 'shutdown' is supported, got {on_exit!r}.")

        ros_args: list[str] = []
        if name:
            ros_args += ["-r", f"__node:={name}"]
        if namespace:
            ros_args += ["-r", f"__ns:={namespace}"]
        ros_args += self.params(entity.get("param"), f"{key}.param")
        ros_args += self.remaps(entity.get("remap"), f"{key}.remap")
        if "ros_args" in entity:
            ros_args += shlex.split(self.text(entity["ros_args"], f"{key}.ros_args"))
        extra = shlex.split(self.text(entity["args"], f"{key}.args")) if "args" in entity else []
        try:
            command = find_executable(package, executable, self.ctx.prefixes)
        except LaunchError as exc:
            raise LaunchError(f"{self.where(key)}: {exc}") from None
        command += extra + (["--ros-args", *ros_args] if ros_args else [])
        env = {}
        for i, item in enumerate(self.items(entity.get("env"), f"{key}.env")):
            item = self.mapping(item, f"{key}.env[{i}]", {"name", "value"}, ["name"])
            env[str(item["name"])] = self.text(item.get("value", ""), f"{key}.env[{i}].value")

        label = name or os.path.basename(executable)
        taken = {n.label for n in self.nodes}
        unique, count = label, 1
        while unique in taken:
            count += 1
            unique = f"{label}-{count}"
        self.nodes.append(NodeSpec(unique, package, executable, command, name, namespace, output,
                                   on_exit == "shutdown", env))

    def params(self, value: Any, key: str) -> list[str]:
        out: list[str] = []
        for i, item in enumerate(self.items(value, key)):
            at = f"{key}[{i}]"
            item = self.mapping(item, at, {"from", "name", "value"}, [])
            if "from" in item:
                if set(item) != {"from"}:
                    raise self.fail(at, "a parameter entry has either 'from' (a file) or 'name' and 'value'.")
                path = Path(self.text(item["from"], f"{at}.from"))
                if not path.is_file():
                    raise self.fail(f"{at}.from", f"parameter file {str(path)!r} does not exist.")
                out += ["--params-file", str(path)]
            elif "name" in item and "value" in item:
                out += ["-p", f"{self.text(item['name'], f'{at}.name')}:={self.param_value(item['value'], at)}"]
            else:
                raise self.fail(at, "a parameter entry needs 'from' (a file) or both 'name' and 'value'.")
        return out

    def param_value(self, value: Any, key: str) -> str:
        """As rcl parses `-p` values (YAML): strings pass through after substitution, others as YAML."""
        if isinstance(value, str):
            return _as_param_yaml(self.text(value, f"{key}.value"))
        if isinstance(value, list):
            return json.dumps([self.text(v, f"{key}.value") if isinstance(v, str) else v for v in value])
        if isinstance(value, dict) or value is None:
            raise self.fail(f"{key}.value", f"a parameter value must be a scalar or a list, got {value!r}.")
        return json.dumps(value)

    def remaps(self, value: Any, key: str) -> list[str]:
        out: list[str] = []
        for i, item in enumerate(self.items(value, key)):
            item = self.mapping(item, f"{key}[{i}]", {"from", "to"}, ["from", "to"])
            src, dst = self.text(item["from"], f"{key}[{i}].from"), self.text(item["to"], f"{key}[{i}].to")
            out += ["-r", f"{src}:={dst}"]
        return out


def _as_param_yaml(text: str) -> str:
    """Pass text through where rcl's YAML reading gives the value launch_ros would; else quote it.

    launch_ros types a substituted value by reading it as YAML ("5" is an int, "true" a bool),
    as rcl does for `-p`; text that would read as empty, null or a mapping stays a string.
    """
    try:
        parsed = yaml.safe_load(text)
    except yaml.YAMLError:
        parsed = None
    if isinstance(parsed, (str, int, float, bool)) or (
        isinstance(parsed, list) and all(isinstance(v, (str, int, float, bool)) for v in parsed)
    ):
        return text
    return json.dumps(text)


_ENTITIES = ("arg", "let", "node")


def _load_yaml(path: Path) -> list[Any]:
    try:
        document = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise LaunchError(f"Cannot read launch file {path}: {exc.strerror}.") from None
    except yaml.YAMLError as exc:
        raise LaunchError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(document, dict) or set(document) != {"launch"}:
        raise LaunchError(f"{path}: a YAML launch file has one top-level key 'launch' holding a list of entities.")
    entities = document["launch"] or []
    if not isinstance(entities, list):
        raise LaunchError(f"{path}: launch: expected a list of entities (arg, let, node), got {entities!r}.")
    return entities


def _entities(path: Path) -> list[tuple[str, str, Any]]:
    out = []
    for i, entity in enumerate(_load_yaml(path)):
        if not isinstance(entity, dict) or len(entity) != 1:
            raise LaunchError(f"{path}: launch[{i}]: each entity is a mapping with one key, e.g. 'node:', "
                              f"got {entity!r}.")
        kind, body = next(iter(entity.items()))
        if kind not in _ENTITIES:
            raise LaunchError(f"{path}: launch[{i}]: entity {kind!r} is not supported by vlm-ros launch; "
                              f"supported entities are {', '.join(_ENTITIES)}.")
        out.append((f"launch[{i}].{kind}", kind, body))
    return out


def load_launch_file(
    path: os.PathLike | str, args: Mapping[str, str] | None = None, prefixes: Sequence[os.PathLike | str] = ()
) -> LaunchPlan:
    """Parse and resolve a launch file; raises LaunchError naming the file and key on any problem."""
    path = Path(path).absolute()
    args = {str(k): str(v) for k, v in (args or {}).items()}
    reader = _Reader(path, args, [Path(p) for p in prefixes])
    for key, kind, body in _entities(path):
        getattr(reader, kind)(body, key)
    unused = [name for name in args if name not in reader.declared]
    return LaunchPlan(path, dict(reader.ctx.configs), reader.nodes, unused)


def declared_arguments(path: os.PathLike | str) -> list[ArgSpec]:
    """The `arg` entities of a file, unresolved, as `ros2 launch --show-args` lists them."""
    path = Path(path).absolute()
    out = []
    for key, kind, body in _entities(path):
        if kind == "arg":
            if not isinstance(body, dict) or "name" not in body:
                raise LaunchError(f"{path}: {key}: missing required key 'name'.")
            choices = tuple(str(c.get("value") if isinstance(c, dict) else c) for c in body.get("choice") or [])
            default = None if body.get("default") is None else str(body["default"])
            out.append(ArgSpec(str(body["name"]), default, str(body.get("description", "")), choices))
    return out

"""The YAML launch runner: parsing into exact command lines, clear errors, and real runs.

Executables live in a throw-away ament prefix in tmp_path (share/ament_index marker plus
lib/<pkg>/<exec>), found through `prefixes=` exactly as ros2 launch finds installed ones.
"""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from vlm_ros.cli import main as cli_main
from vlm_ros.launch_runner import (
    LaunchError,
    LaunchSession,
    declared_arguments,
    find_executable,
    find_launch_file,
    find_package_share,
    load_launch_file,
)

PKG = "demo_pkg"

TALKER = """
import sys
import rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from std_msgs.msg import String

rclpy.init(args=sys.argv)
node = Node("talker")
greeting = node.declare_parameter("greeting", "hello").value
count = node.declare_parameter("count", 0).value
suffix = node.declare_parameter("suffix", "!").value
pub = node.create_publisher(String, "chatter", 10)
node.create_timer(0.1, lambda: pub.publish(String(data=f"{greeting}{suffix} {count}")))
print(f"ready {node.get_fully_qualified_name()}", flush=True)
try:
    rclpy.spin(node)
except (KeyboardInterrupt, ExternalShutdownException):
    pass
finally:
    rclpy.try_shutdown()
"""

SLEEPER = """
import signal, sys, time
def stop(num, frame):
    print(f"got {signal.Signals(num).name}", flush=True)
    sys.exit(0)
signal.signal(signal.SIGINT, stop)
signal.signal(signal.SIGTERM, stop)
print("sleeper ready", *sys.argv[1:], flush=True)
print("to stderr", file=sys.stderr, flush=True)
while True:
    time.sleep(0.05)
"""

STUBBORN = """
import signal, time
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGTERM, signal.SIG_IGN)
print("stubborn ready", flush=True)
while True:
    time.sleep(0.05)
"""

FAILER = """
import sys, time
print("failing soon", flush=True)
time.sleep(0.3)
sys.exit(3)
"""


@pytest.fixture
def prefix(tmp_path: Path) -> Path:
    """An ament install prefix holding demo_pkg: its executables, a params file and a launch file."""
    root = tmp_path / "install"
    (root / "share/ament_index/resource_index/packages").mkdir(parents=True)
    (root / "share/ament_index/resource_index/packages" / PKG).write_text("")
    (root / "share" / PKG / "config").mkdir(parents=True)
    (root / "share" / PKG / "config/talker.yaml").write_text("/**:\n  ros__parameters:\n    greeting: hi\n")
    (root / "share" / PKG / "launch").mkdir()
    (root / "share" / PKG / "launch/empty.launch.yaml").write_text("launch: []\n")
    lib = root / "lib" / PKG
    lib.mkdir(parents=True)
    for name, code in {"talker": TALKER, "sleeper": SLEEPER, "stubborn": STUBBORN, "failer": FAILER}.items():
        script = lib / name
        script.write_text(f"#!{sys.executable}\n{textwrap.dedent(code)}")
        script.chmod(0o755)
    return root


def write(tmp_path: Path, text: str, name: str = "test.launch.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


# ---- parsing ------------------------------------------------------------------------------------


def test_node_becomes_the_exact_ros_command_line(tmp_path: Path, prefix: Path) -> None:
    path = write(tmp_path, f"""
        launch:
        - arg: {{name: "ns", default: "robot"}}
        - arg: {{name: "greeting", default: "hi there", description: "what to say"}}
        - node:
            pkg: "{PKG}"
            exec: "talker"
            name: "my_talker"
            namespace: "$(var ns)"
            output: "screen"
            args: "--flag 'two words'"
            param:
            - {{from: "$(find-pkg-share {PKG})/config/talker.yaml"}}
            - {{name: "greeting", value: "$(var greeting)"}}
            - {{name: "count", value: 7}}
            - {{name: "verbose", value: true}}
            - {{name: "box", value: [0.5, -1.5]}}
            - {{name: "empty", value: ""}}
            - {{name: "mapping_like", value: "a: b"}}
            remap:
            - {{from: "chatter", to: "/talk/$(var ns)"}}
            ros_args: "--log-level debug"
        """)
    plan = load_launch_file(path, {}, prefixes=[prefix])
    (node,) = plan.nodes
    assert node.label == "my_talker" and node.namespace == "/robot" and node.output == "screen"
    assert node.command == [
        str(prefix / "lib" / PKG / "talker"), "--flag", "two words",
        "--ros-args",
        "-r", "__node:=my_talker",
        "-r", "__ns:=/robot",
        "--params-file", str(prefix / "share" / PKG / "config/talker.yaml"),
        "-p", "greeting:=hi there",
        "-p", "count:=7",
        "-p", "verbose:=true",
        "-p", "box:=[0.5, -1.5]",
        "-p", "empty:=\"\"",
        "-p", 'mapping_like:="a: b"',
        "-r", "chatter:=/talk/robot",
        "--log-level", "debug",
    ]


def test_arguments_defaults_overrides_and_undeclared(tmp_path: Path, prefix: Path) -> None:
    path = write(tmp_path, f"""
        launch:
        - arg: {{name: "a", default: "1"}}
        - arg: {{name: "b", default: "$(var a)-b"}}
        - let: {{name: "c", value: "$(var b)+$(var extra)"}}
        - node: {{pkg: "{PKG}", exec: "sleeper", args: "$(var c)"}}
        """)
    with pytest.raises(LaunchError, match=r"\$\(var extra\) is not set"):
        load_launch_file(path, {}, prefixes=[prefix])
    plan = load_launch_file(path, {"extra": "x"}, prefixes=[prefix])
    assert plan.arguments == {"extra": "x", "a": "1", "b": "1-b", "c": "1-b+x"}
    assert plan.unused_arguments == ["extra"]
    assert plan.nodes[0].command[1:] == ["1-b+x"]  # no ROS arguments: no --ros-args
    plan = load_launch_file(path, {"a": "9", "extra": "y"}, prefixes=[prefix])
    assert plan.arguments["b"] == "9-b" and plan.nodes[0].label == "sleeper"


def test_required_argument_and_choices(tmp_path: Path) -> None:
    path = write(tmp_path, """
        launch:
        - arg: {name: "backend", description: "model backend", choice: [{value: torch}, {value: onnx}]}
        """)
    with pytest.raises(LaunchError, match=r"launch\[0\]\.arg: required launch argument 'backend' was not "
                                          r"given \(model backend\); pass backend:=VALUE"):
        load_launch_file(path, {})
    with pytest.raises(LaunchError, match=r"'backend' is 'tf'; it must be one of torch, onnx"):
        load_launch_file(path, {"backend": "tf"})
    assert load_launch_file(path, {"backend": "onnx"}).arguments == {"backend": "onnx"}
    (spec,) = declared_arguments(path)
    assert (spec.name, spec.default, spec.description, spec.choices) == ("backend", None, "model backend",
                                                                          ("torch", "onnx"))


def test_substitutions(tmp_path: Path, prefix: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VLM_TEST_SET", "from-env")
    monkeypatch.delenv("VLM_TEST_UNSET", raising=False)
    path = write(tmp_path, f"""
        launch:
        - let: {{name: "x", value: "fallback"}}
        - let: {{name: "env", value: "$(env VLM_TEST_SET)"}}
        - let: {{name: "env_default", value: "$(env VLM_TEST_UNSET $(var x))"}}
        - let: {{name: "quoted", value: "$(env VLM_TEST_UNSET 'a b')"}}
        - let: {{name: "optenv", value: "[$(optenv VLM_TEST_UNSET)]"}}
        - let: {{name: "share", value: "$(find-pkg-share {PKG})"}}
        - let: {{name: "pkg_prefix", value: "$(find-pkg-prefix {PKG})"}}
        - let: {{name: "here", value: "$(dirname)/$(filename)"}}
        - let: {{name: "source", value: "$(find-pkg-share vlm_ros)"}}
        """)
    got = load_launch_file(path, {}, prefixes=[prefix]).arguments
    assert got["env"] == "from-env" and got["env_default"] == "fallback" and got["quoted"] == "a b"
    assert got["optenv"] == "[]"
    assert got["share"] == str(prefix / "share" / PKG) and got["pkg_prefix"] == str(prefix)
    assert got["here"] == str(path)
    # vlm_ros is not in the venv's ament index here: its source checkout serves as share folder.
    assert Path(got["source"]) == find_package_share("vlm_ros") and (Path(got["source"]) / "package.xml").is_file()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("$(env VLM_TEST_UNSET)", r"'VLM_TEST_UNSET' of \$\(env VLM_TEST_UNSET\) is not set and has no default"),
        ("$(nope a)", r"unknown substitution '\$\(nope \.\.\.\)'; supported: var, env"),
        ("$(var a b)", r"\$\(var\) takes 1 argument\(s\), got 2"),
        ("$(var a", r"has no closing '\)'"),
        ("$(find-pkg-share no_such_pkg_xyz)", r"Package 'no_such_pkg_xyz' was not found"),
    ],
)
def test_substitution_errors_name_file_and_key(tmp_path: Path, value: str, message: str,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VLM_TEST_UNSET", raising=False)
    path = write(tmp_path, f'launch:\n- arg: {{name: "a", default: "1"}}\n- let: {{name: "v", value: "{value}"}}\n')
    with pytest.raises(LaunchError, match=rf"{path}: launch\[1\]\.let\.value: .*{message}"):
        load_launch_file(path)


def test_conditions_and_empty_namespace(tmp_path: Path, prefix: Path) -> None:
    path = write(tmp_path, f"""
        launch:
        - arg: {{name: "two", default: "false"}}
        - node: {{pkg: "{PKG}", exec: "sleeper", name: "one", namespace: ""}}
        - node: {{pkg: "{PKG}", exec: "sleeper", name: "two", if: "$(var two)"}}
        - node: {{pkg: "{PKG}", exec: "sleeper", unless: "$(var two)"}}
        - node: {{pkg: "{PKG}", exec: "sleeper"}}
        """)
    nodes = load_launch_file(path, {}, prefixes=[prefix]).nodes
    assert [n.label for n in nodes] == ["one", "sleeper", "sleeper-2"]
    assert nodes[0].command[1:] == ["--ros-args", "-r", "__node:=one"]  # empty namespace: not passed
    assert [n.label for n in load_launch_file(path, {"two": "true"}, prefixes=[prefix]).nodes] == [
        "one", "two", "sleeper"]
    with pytest.raises(LaunchError, match=r"launch\[2\]\.node\.if: condition must be true/false or 1/0, got 'yes'"):
        load_launch_file(path, {"two": "yes"}, prefixes=[prefix])


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("launch:\n- node: {pkg: demo_pkg, exe: talker}\n",
         r"launch\[0\]\.node\.exe: unknown key 'exe'; allowed keys are args, env, exec"),
        ("launch:\n- node: {exec: talker}\n", r"launch\[0\]\.node: missing required key 'pkg'"),
        ("launch:\n- include: {file: x.yaml}\n",
         r"launch\[0\]: entity 'include' is not supported by vlm-ros launch; supported entities are arg, let, node"),
        ("launch:\n- node: {pkg: demo_pkg, exec: talker}\n  arg: {name: x}\n", r"launch\[0\]: each entity"),
        ("nodes: []\n", r"one top-level key 'launch'"),
        ("launch: [\n", r"not valid YAML"),
        ("launch:\n- node: {pkg: demo_pkg, exec: talker, output: loud}\n",
         r"launch\[0\]\.node\.output: output must be one of screen, log, both, got 'loud'"),
        ("launch:\n- node: {pkg: demo_pkg, exec: talker, param: [{from: /no/such.yaml}]}\n",
         r"launch\[0\]\.node\.param\[0\]\.from: parameter file '/no/such.yaml' does not exist"),
        ("launch:\n- node: {pkg: demo_pkg, exec: talker, param: [{name: x}]}\n",
         r"launch\[0\]\.node\.param\[0\]: a parameter entry needs 'from'"),
        ("launch:\n- node: {pkg: demo_pkg, exec: talker, remap: [{from: a}]}\n",
         r"launch\[0\]\.node\.remap\[0\]: missing required key 'to'"),
        ("launch:\n- node: {pkg: demo_pkg, exec: talker, on_exit: restart}\n",
         r"launch\[0\]\.node\.on_exit: only 'shutdown' is supported"),
        ("launch:\n- node: {pkg: demo_pkg, exec: nope}\n",
         r"launch\[0\]\.node: Executable 'nope' of package 'demo_pkg' was not found: looked at .*lib/demo_pkg/nope"),
        ("launch:\n- node: {pkg: no_pkg_xyz, exec: nope}\n",
         r"'no_pkg_xyz' is in no ament index, and looked in the console scripts"),
    ],
)
def test_parse_errors_name_file_and_key(tmp_path: Path, prefix: Path, body: str, message: str) -> None:
    path = write(tmp_path, body)
    with pytest.raises(LaunchError, match=rf"^{re.escape(str(path))}: (.*)?{message}"):
        load_launch_file(path, {}, prefixes=[prefix])


def test_executables_resolve_through_console_scripts_and_launch_files_by_name(prefix: Path) -> None:
    (command,) = [find_executable("vlm_ros", "vlm-ros")]
    assert len(command) == 1 and Path(command[0]).name == "vlm-ros" and os.access(command[0], os.X_OK)
    assert find_launch_file("empty.launch.yaml", PKG, [prefix]) == prefix / "share" / PKG / "launch/empty.launch.yaml"
    with pytest.raises(LaunchError, match=r"'missing.yaml' was not found: .*available: empty.launch.yaml"):
        find_launch_file("missing.yaml", PKG, [prefix])
    assert find_launch_file(__file__) == Path(__file__)


# ---- real runs --------------------------------------------------------------------------------


@pytest.mark.ros
def test_real_rclpy_node_has_name_namespace_params_and_remap_and_stops(tmp_path: Path, prefix: Path) -> None:
    import rclpy
    from std_msgs.msg import String

    path = write(tmp_path, f"""
        launch:
        - arg: {{name: "ns", default: "robot"}}
        - arg: {{name: "suffix", default: ""}}
        - node:
            pkg: "{PKG}"
            exec: "talker"
            name: "renamed_talker"
            namespace: "$(var ns)"
            output: "screen"
            param:
            - {{from: "$(find-pkg-share {PKG})/config/talker.yaml"}}
            - {{name: "count", value: 7}}
            - {{name: "suffix", value: "$(var suffix)"}}
            remap:
            - {{from: "chatter", to: "remapped_chatter"}}
        """)
    echo = io.StringIO()
    context = rclpy.Context()
    rclpy.init(context=context)
    probe = rclpy.create_node("launch_probe", context=context)
    received: list[str] = []
    probe.create_subscription(String, "/robot1/remapped_chatter", lambda m: received.append(m.data), 10)
    executor = rclpy.executors.SingleThreadedExecutor(context=context)
    executor.add_node(probe)
    try:
        with LaunchSession(path, {"ns": "robot1"}, prefixes=[prefix], echo=echo) as session:
            session.wait_for_output(r"^ready /robot1/renamed_talker$", timeout=20, node="renamed_talker")
            deadline = time.monotonic() + 20
            while not received and time.monotonic() < deadline:
                executor.spin_once(timeout_sec=0.1)
            assert received and received[0] == "hi 7"  # greeting from the file; count, suffix ('') from -p
            # node names are discovered separately from endpoints and may arrive a little later
            deadline = time.monotonic() + 10
            while ("renamed_talker", "/robot1") not in probe.get_node_names_and_namespaces():
                assert time.monotonic() < deadline, probe.get_node_names_and_namespaces()
                executor.spin_once(timeout_sec=0.1)
            topics = dict(probe.get_topic_names_and_types())
            assert "/robot1/remapped_chatter" in topics and "/robot1/chatter" not in topics
            popen = session.process("renamed_talker")
        assert popen.returncode is not None and session.returncode == 0
        assert all(not alive for alive in session.running.values())
        deadline = time.monotonic() + 10
        while ("renamed_talker", "/robot1") in probe.get_node_names_and_namespaces():
            assert time.monotonic() < deadline, "the launched node is still in the graph after the session ended"
            executor.spin_once(timeout_sec=0.1)
        assert "[renamed_talker] ready /robot1/renamed_talker" in echo.getvalue().splitlines()
        assert "[INFO] [renamed_talker]: process started with pid" in echo.getvalue()
    finally:
        executor.shutdown()
        probe.destroy_node()
        rclpy.shutdown(context=context)


def test_required_node_exit_stops_the_others_with_its_exit_code(tmp_path: Path, prefix: Path) -> None:
    path = write(tmp_path, f"""
        launch:
        - node: {{pkg: "{PKG}", exec: "sleeper", output: "screen"}}
        - node: {{pkg: "{PKG}", exec: "failer", output: "screen", on_exit: "shutdown"}}
        """)
    echo = io.StringIO()
    with LaunchSession(path, prefixes=[prefix], echo=echo) as session:
        assert session.wait(timeout=20) == 3
        assert session.running == {"sleeper": False, "failer": False}
    assert "got SIGINT" in session.output("sleeper")
    assert "[ERROR] [failer]: process has died" in echo.getvalue()
    assert "required node 'failer' exited: stopping all nodes" in echo.getvalue()


def test_stubborn_node_is_escalated_to_sigkill(tmp_path: Path, prefix: Path) -> None:
    path = write(tmp_path, f"launch:\n- node: {{pkg: {PKG}, exec: stubborn, output: screen}}\n")
    with LaunchSession(path, prefixes=[prefix], echo=None, sigint_timeout=0.3, sigterm_timeout=0.3) as session:
        session.wait_for_output("stubborn ready", timeout=10)
        start = time.monotonic()
    assert session.process("stubborn").returncode == -signal.SIGKILL and session.returncode == 0
    assert time.monotonic() - start < 5


def test_log_output_goes_to_a_file_and_stderr_to_screen(tmp_path: Path, prefix: Path) -> None:
    path = write(tmp_path, f"launch:\n- node: {{pkg: {PKG}, exec: sleeper}}\n")  # output defaults to log
    echo = io.StringIO()
    with LaunchSession(path, prefixes=[prefix], echo=echo, log_dir=tmp_path / "logs") as session:
        session.wait_for_output("to stderr", timeout=10)
    (log,) = (tmp_path / "logs").glob("*/sleeper.log")
    assert "sleeper ready" in log.read_text() and "got SIGINT" in log.read_text()
    assert "[sleeper] to stderr" in echo.getvalue() and "[sleeper] sleeper ready" not in echo.getvalue()


def test_wait_for_output_fails_fast_when_the_node_ended(tmp_path: Path, prefix: Path) -> None:
    path = write(tmp_path, f"launch:\n- node: {{pkg: {PKG}, exec: failer, output: screen}}\n")
    with LaunchSession(path, prefixes=[prefix], echo=None) as session:
        with pytest.raises(TimeoutError, match=r"before the process\(es\) ended. Last lines:\n\[failer\] failing"):
            session.wait_for_output("never printed", timeout=30)
        assert session.wait(timeout=10) == 3


# ---- CLI --------------------------------------------------------------------------------------


def test_cli_prints_commands_shows_args_and_returns_failures(tmp_path: Path, prefix: Path,
                                                            capsys: pytest.CaptureFixture,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROS_LOG_DIR", str(tmp_path / "logs"))
    path = write(tmp_path, f"""
        launch:
        - arg: {{name: "word", default: "w", description: "a word"}}
        - node: {{pkg: "{PKG}", exec: "sleeper", args: "$(var word)"}}
        - node: {{pkg: "{PKG}", exec: "failer", output: "screen", on_exit: "shutdown"}}
        """)
    assert cli_main(["launch", "--print-commands", str(path), "word:=hello", "--prefix", str(prefix)]) == 0
    assert f"sleeper: {prefix}/lib/{PKG}/sleeper hello" in capsys.readouterr().out
    assert cli_main(["launch", str(path), "-s"]) == 0
    assert "'word':\n        a word\n        (default: 'w')" in capsys.readouterr().out
    assert cli_main(["launch", str(path), "typo:=1", "--prefix", str(prefix)]) == 3
    captured = capsys.readouterr()
    assert "[failer] failing soon" in captured.out and "argument 'typo' is not declared" in captured.err
    assert cli_main(["launch", "no_such.launch.yaml"]) == 1
    assert "vlm-ros launch: error: Launch file 'no_such.launch.yaml' was not found" in capsys.readouterr().err
    assert cli_main(["launch", PKG, "empty.launch.yaml", "--prefix", str(prefix)]) == 0


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_cli_forwards_signals_to_nodes(tmp_path: Path, prefix: Path, sig: signal.Signals) -> None:
    path = write(tmp_path, f"launch:\n- node: {{pkg: {PKG}, exec: sleeper, name: sleepy, output: screen}}\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "vlm_ros.cli", "launch", str(path), "--prefix", str(prefix)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        lines = []
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith("[sleepy] sleeper ready"):
                break
        proc.send_signal(sig)
        out, _ = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
    lines += out.splitlines()
    assert proc.returncode == 0, lines
    assert "[sleepy] got SIGINT" in lines  # the runner forwards SIGINT first, as ros2 launch does
    assert f"[INFO] [launch]: received {sig.name}: stopping all nodes" in lines

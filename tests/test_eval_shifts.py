"""Named shifts of the cell for `vlm-ros eval-grounding --shift`: each keeps the task's objects in
the model's view, changes what it says it changes, and the CLI reports every shift."""

from __future__ import annotations

import json

import numpy as np
import pytest

from vlm_ros.models.processor import ImageProcessor
from vlm_ros.sim.camera import CameraConfig
from vlm_ros.sim.look import CellLook
from vlm_ros.training.shifts import ISSUE_TABLE, SHIFTS, resolve

pytestmark = pytest.mark.sim


def test_names_resolve_and_unknown_names_are_refused():
    assert resolve(["all"]) == list(SHIFTS) and len(SHIFTS) >= 25
    assert set(ISSUE_TABLE) >= {"trained", "camera-jitter", "fov-55", "side", "overhead", "arm-in-view",
                                "light-front", "light-bright", "light-low-left", "light-dim", "table-gray",
                                "table-white", "table-dark-wood", "table-black"}
    assert resolve(["side", "table", "side"])[0] == "side" and len(resolve(["table"])) == len(ISSUE_TABLE)
    with pytest.raises(ValueError, match="unknown shift 'sideways'"):
        resolve(["sideways"])


def test_shifts_change_what_they_name():
    rng = np.random.default_rng(0)
    assert SHIFTS["trained"](rng) == CellLook()
    nominal = CameraConfig()
    for _ in range(20):
        cam = SHIFTS["camera-jitter"](rng).camera
        assert np.abs(np.subtract(cam.eye, nominal.eye)).max() <= 0.10
        assert np.abs(np.subtract(cam.target, nominal.target)).max() <= 0.05
    assert SHIFTS["fov-55"](rng).camera.fov_y_deg == 55.0
    overhead = SHIFTS["overhead"](rng).camera
    assert overhead.eye[:2] == pytest.approx(overhead.target[:2], abs=1e-9)  # straight above the target
    assert SHIFTS["arm-in-view"](rng).arm_joints is not None
    assert SHIFTS["table-black"](rng).table_color == pytest.approx((0.06, 0.06, 0.07))
    assert SHIFTS["edge-aspect-16:9"](rng).width / SHIFTS["edge-aspect-16:9"](rng).height == pytest.approx(16 / 9)


def test_every_shift_keeps_a_task_in_view():
    """A shift that hid the objects would measure the camera, not the model."""
    from vlm_ros.sim.scene import TabletopSim
    from vlm_ros.sim.tasks import TASKS
    from vlm_ros.training.evaluate import VIEW_ATTEMPTS
    from vlm_ros.training.randomization import keeps_objects_in_view

    processor = ImageProcessor()
    with TabletopSim(width=640, height=480) as sim:
        trained = None
        for name, shift in SHIFTS.items():
            for attempt in range(VIEW_ATTEMPTS):  # as the evaluator redraws a shift (camera-jitter may crop)
                sim.set_look(shift(np.random.default_rng([3, 17, attempt])))
                TASKS["put-block-in-bowl"].sample(sim, 700)
                frame = sim.render()
                if keeps_objects_in_view(sim, processor, frame.depth):
                    break
            else:
                pytest.fail(f"{name} hides an object in {VIEW_ATTEMPTS} draws")
            if trained is None:
                trained = frame.rgb
            elif name != "edge-noise-6" and name != "edge-jpeg-35":  # those act on the image afterwards
                assert frame.rgb.shape != trained.shape or np.abs(frame.rgb.astype(int) - trained).mean() > 0.5, name


def test_eval_grounding_reports_every_shift(tmp_path, capsys):
    from vlm_ros.cli import main
    from vlm_ros.engines.random_model import save_random_model

    model = save_random_model(tmp_path / "model", "tiny", seed=1)
    out = tmp_path / "shifts.json"
    rc = main(["eval-grounding", "--model", str(model), "--shift", "overhead", "--shift", "table-white",
               "--episodes", "5", "--threads", "1", "--json", str(out), "--details", str(tmp_path / "d.jsonl")])
    assert rc == 0
    report = json.loads(out.read_text())
    assert list(report["shifts"]) == ["overhead", "table-white"] and report["episodes_per_shift"] == 5
    for summary in report["shifts"].values():
        assert summary["episodes"] == 5 and 0.0 <= summary["correct_object_rate"] <= 1.0
        assert 0.0 <= summary["refusal_accuracy"] <= 1.0 and summary["in_view_rate"] == 1.0
    rows = [json.loads(line) for line in (tmp_path / "d.jsonl").read_text().splitlines()]
    assert [r["shift"] for r in rows] == ["overhead"] * 5 + ["table-white"] * 5
    assert "| overhead |" in capsys.readouterr().out
    assert main(["eval-grounding", "--model", str(model), "--shift", "nowhere", "--episodes", "1"]) == 2

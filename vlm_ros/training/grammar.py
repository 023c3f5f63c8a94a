"""Instruction grammar: scene + random task -> (instruction, target program).

Templates live in text files, one per line with placeholders {pick}, {place}, {pick_color},
{place_color} (the format the bench shares). Training and held-out phrasings are separate
directories, so held-out templates are never seen in training.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vlm_ros.core.vocabulary import COLORS, LOCATION_SYNONYMS, LOCATIONS, OBJECT_KINDS
from vlm_ros.training.scenes import Scene, SceneObjectInfo

TEMPLATE_DIR = Path(__file__).parent / "templates"
TASKS = ("put-block-in-bowl", "stack-blocks", "put-all-color-in-bowl", "place-at-location")
TASK_WEIGHTS = {  # task mix of sampled examples; "multi-step" chains two single-object tasks
    "put-block-in-bowl": 0.18, "stack-blocks": 0.12, "put-all-color-in-bowl": 0.14,
    "place-at-location": 0.10, "multi-step": 0.30, "refuse": 0.16,
}
POLITE_PREFIX = ("please ", "could you ", "can you ", "would you ", "could you please ", "now ", "ok ", "hey robot, ")
POLITE_SUFFIX = (" please", " for me", " now", ", please", ", thanks", " thank you")
END_PUNCT = (".", "!", "?", " .")
CONNECTORS = ("{a}, then {b}", "{a} and then {b}", "first {a}, then {b}", "{a}. then {b}", "{a}, and {b}",
              "{a}, after that {b}", "{a} then {b}", "{a}; then {b}", "{a}, and then {b}", "{a}, next {b}")
ELLIPSIS = {"put-block-in-bowl": ("the {pick} in the {place}", "the {pick} into the {place}"),
            "stack-blocks": ("the {pick} on the {place}", "the {pick} on top of the {place}"),
            "place-at-location": ("the {pick} to the {place}",)}
PLURALS = {"block": "blocks", "cube": "cubes", "box": "boxes"}


WEIGHT_PREFIX = re.compile(r"^\[(\d+)\]\s*")  # "[3] onto the {place} put the {pick}"


def read_templates(path: str | Path, weighted: bool = False) -> list[str]:
    """One template per line; blank lines and # comments are skipped.

    A line may start with a sampling weight, "[3] ...": training (weighted=True) repeats it that
    many times, so phrasings the model finds hard are seen more often; evaluation reads each
    template once, so the weights never change what a benchmark measures."""
    out = []
    for line in Path(path).read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        m = WEIGHT_PREFIX.match(line)
        weight = int(m.group(1)) if m else 1
        text = line[m.end():] if m else line
        out += [text] * (weight if weighted else 1)
    return out


def load_template_set(split: str = "train", root: Path = TEMPLATE_DIR, weighted: bool = True) -> dict[str, list[str]]:
    return {task: read_templates(root / split / f"{task}.txt", weighted) for task in TASKS}


@dataclass
class Step:
    op: str  # "pick" | "place"
    label: str  # canonical label: "red block", "green bowl", "top left corner"
    pixel: tuple[float, float]  # [u, v] of the 640 x 480 frame
    point: tuple[float, float, float]  # base frame [m]


@dataclass
class Example:
    instruction: str
    task: str
    steps: list[Step] = field(default_factory=list)
    refused: str | None = None

    def target_words(self) -> list[str]:
        """Program tokens, e.g. ['pick', 'red', 'block', '<loc>', ...]; <eos> is added by the tokenizer."""
        if self.refused is not None:
            return ["refuse", *self.refused.split()]
        words: list[str] = []
        for step in self.steps:
            words += [step.op, *step.label.split(), "<loc>"]
        return words


class InstructionGrammar:
    def __init__(self, templates: dict[str, list[str]], location_pixels: dict[str, tuple[float, float]]):
        self.templates = templates
        self.location_pixels = location_pixels

    # --- surface forms -------------------------------------------------------------------
    @staticmethod
    def _noun(rng: np.random.Generator, color: str, kind: str) -> str:
        return f"{color} {rng.choice(OBJECT_KINDS[kind])}"

    def _fill(self, rng: np.random.Generator, template: str, pick: SceneObjectInfo | str,
              place: SceneObjectInfo | str) -> str:
        """pick/place: objects or plain strings (location phrase, colour for put-all)."""
        if isinstance(pick, str):  # put-all: a colour and plural nouns
            syn = str(rng.choice(OBJECT_KINDS["block"]))
            words = [PLURALS[syn] if w == "blocks" else syn if w == "block" else w for w in template.split(" ")]
            template = " ".join(words)
            pick_text, pick_color = pick, pick
        else:
            pick_text, pick_color = self._noun(rng, pick.color, pick.kind), pick.color
        if isinstance(place, str):
            place_text, place_color = place, ""
        else:
            place_text, place_color = self._noun(rng, place.color, place.kind), place.color
        return template.format(pick=pick_text, place=place_text, pick_color=pick_color, place_color=place_color)

    @staticmethod
    def decorate(rng: np.random.Generator, text: str) -> str:
        """Politeness, punctuation and casing."""
        if rng.random() < 0.3:
            text = str(rng.choice(POLITE_PREFIX)) + text
        if rng.random() < 0.15:
            text += str(rng.choice(POLITE_SUFFIX))
        if rng.random() < 0.4:
            text += str(rng.choice(END_PUNCT))
        r = rng.random()
        if r < 0.4:
            text = text[0].upper() + text[1:]
        elif r < 0.45:
            text = text.upper()
        return text

    # --- one clause ----------------------------------------------------------------------
    def _clause(self, rng, task: str, pick, place, elliptic: bool = False) -> str:
        if elliptic and task in ELLIPSIS:
            return self._fill(rng, str(rng.choice(ELLIPSIS[task])), pick, place)
        return self._fill(rng, str(rng.choice(self.templates[task])), pick, place)

    @staticmethod
    def _step(op: str, obj: SceneObjectInfo) -> Step:
        return Step(op, obj.label, obj.pixel, obj.point)

    def _location(self, rng) -> tuple[str, str]:
        phrase = str(rng.choice(list(LOCATION_SYNONYMS)))
        return phrase, LOCATION_SYNONYMS[phrase]

    def _location_step(self, name: str) -> Step:
        x, y = LOCATIONS[name]
        pixels = getattr(self, "_scene_locations", None) or self.location_pixels  # the scene's camera
        return Step("place", name, pixels[name], (x, y, 0.0))

    def _single(self, rng, scene: Scene, task: str, exclude: set[str], avoid_place: str = ""):
        """A single-object task on unique objects -> (task, pick obj, place obj|phrase, steps) or None.

        avoid_place: a bowl label to skip when another bowl exists, so chains learn to bind each
        clause to its own bowl instead of repeating the first one."""
        counts: dict[str, int] = {}
        for o in scene.objects:
            counts[o.label] = counts.get(o.label, 0) + 1
        blocks = [o for o in scene.objects if o.kind == "block" and counts[o.label] == 1 and o.label not in exclude]
        bowls = [o for o in scene.objects if o.kind == "bowl" and counts[o.label] == 1]
        if not blocks:
            return None
        pick = blocks[int(rng.integers(len(blocks)))]
        if task == "put-block-in-bowl" and bowls:
            fresh = [b for b in bowls if b.label != avoid_place] or bowls
            place = fresh[int(rng.integers(len(fresh)))]
            return task, pick, place, [self._step("pick", pick), self._step("place", place)]
        others = [b for b in blocks if b is not pick]
        if task == "stack-blocks" and others:
            place = others[int(rng.integers(len(others)))]
            return task, pick, place, [self._step("pick", pick), self._step("place", place)]
        phrase, name = self._location(rng)
        return "place-at-location", pick, phrase, [self._step("pick", pick), self._location_step(name)]

    # --- examples ------------------------------------------------------------------------
    def sample(self, rng: np.random.Generator, scene: Scene, task: str | None = None) -> Example:
        self._scene_locations = scene.locations  # randomised cameras: this scene's location pixels
        if task is None:
            names = list(TASK_WEIGHTS)
            task = names[int(rng.choice(len(names), p=np.array(list(TASK_WEIGHTS.values()))))]
        if task == "refuse":
            return self.sample_refusal(rng, scene)
        if task == "put-all-color-in-bowl":
            ex = self._put_all(rng, scene)
            if ex is not None:
                return ex
            task = "put-block-in-bowl"
        if task == "multi-step":
            return self._multi(rng, scene)
        single = self._single(rng, scene, task, set())
        if single is None:
            return self._put_all(rng, scene) or self.sample_refusal(rng, scene)
        task, pick, place, steps = single
        return Example(self.decorate(rng, self._clause(rng, task, pick, place)), task, steps)

    def _put_all(self, rng, scene: Scene) -> Example | None:
        bowls = [o for o in scene.objects if o.kind == "bowl"]
        colors = sorted({o.color for o in scene.objects if o.kind == "block"})
        if not bowls or not colors:
            return None
        multi = [c for c in colors if sum(o.color == c and o.kind == "block" for o in scene.objects) > 1]
        color = str(rng.choice(multi if multi and rng.random() < 0.8 else colors))
        bowl = bowls[int(rng.integers(len(bowls)))]
        if sum(o.label == bowl.label for o in scene.objects) > 1:
            return None
        targets = sorted((o for o in scene.objects if o.kind == "block" and o.color == color),
                         key=lambda o: (round(o.pixel[1], 1), o.pixel[0]))  # raster order
        steps = [s for o in targets for s in (self._step("pick", o), self._step("place", bowl))]
        text = self._clause(rng, "put-all-color-in-bowl", color, bowl)
        return Example(self.decorate(rng, text), "put-all-color-in-bowl", steps)

    def _multi(self, rng, scene: Scene) -> Example:
        # mostly bowl clauses: "A in bowl 1, then B in bowl 2" is the chain that teaches which
        # clause each place word belongs to
        tasks, weights = ("put-block-in-bowl", "stack-blocks", "place-at-location"), (0.5, 0.25, 0.25)
        first = self._single(rng, scene, str(rng.choice(tasks, p=weights)), set())
        if first is None:
            return self.sample(rng, scene, "put-all-color-in-bowl")
        avoid = first[2].label if isinstance(first[2], SceneObjectInfo) and rng.random() < 0.75 else ""
        second = self._single(rng, scene, str(rng.choice(tasks, p=weights)), {first[1].label}, avoid)
        if second is None:
            task, pick, place, steps = first
            return Example(self.decorate(rng, self._clause(rng, task, pick, place)), task, steps)
        a = self._clause(rng, first[0], first[1], first[2])
        b = self._clause(rng, second[0], second[1], second[2], elliptic=rng.random() < 0.5)
        text = str(rng.choice(CONNECTORS)).format(a=a, b=b)
        return Example(self.decorate(rng, text), "multi-step", first[3] + second[3])

    def sample_refusal(self, rng, scene: Scene) -> Example:
        """A task naming one object that is not in the scene -> refuse(<its label>)."""
        present = {o.label for o in scene.objects}

        def absent(kind: str) -> SceneObjectInfo:
            colors = [c for c in COLORS if f"{c} {kind}" not in present]
            c = str(rng.choice(colors))
            return SceneObjectInfo(f"{c} {kind}", kind, c, (0.0, 0.0), (0.0, 0.0, 0.0))

        blocks = [o for o in scene.objects if o.kind == "block"]
        bowls = [o for o in scene.objects if o.kind == "bowl"]
        real_block = blocks[int(rng.integers(len(blocks)))] if blocks else absent("block")
        real_bowl = bowls[int(rng.integers(len(bowls)))] if bowls else absent("bowl")
        task = str(rng.choice(("put-block-in-bowl", "put-block-in-bowl", "stack-blocks", "place-at-location",
                               "put-all-color-in-bowl", "multi-step")))
        if task == "put-all-color-in-bowl":
            colors = [c for c in COLORS if f"{c} block" not in present]
            color = str(rng.choice(colors))
            missing = f"{color} block"
            if rng.random() < 0.3 and len(present) > 0:
                color, bowl = real_block.color, absent("bowl")
                missing = bowl.label
            else:
                bowl = real_bowl
            text = self._clause(rng, task, color, bowl)
            return Example(self.decorate(rng, text), "refuse", refused=missing)
        if task == "place-at-location":
            pick = absent("block")
            text = self._clause(rng, task, pick, self._location(rng)[0])
            return Example(self.decorate(rng, text), "refuse", refused=pick.label)
        if task == "multi-step":
            sub = str(rng.choice(("put-block-in-bowl", "stack-blocks")))
            pick_a = real_block
            place_a = real_bowl if sub == "put-block-in-bowl" else absent("block")
            miss = absent("block")
            a = self._clause(rng, "put-block-in-bowl", pick_a, real_bowl)
            b = self._clause(rng, "put-block-in-bowl", miss, place_a if sub == "put-block-in-bowl" else real_bowl,
                             elliptic=rng.random() < 0.5)
            if rng.random() < 0.5:
                a, b = self._clause(rng, "put-block-in-bowl", miss, real_bowl), a
            text = str(rng.choice(CONNECTORS)).format(a=a, b=b)
            return Example(self.decorate(rng, text), "refuse", refused=miss.label)
        kind = "bowl" if task == "put-block-in-bowl" else "block"
        place_real = real_bowl if kind == "bowl" else next((b for b in blocks if b is not real_block), absent("block"))
        if rng.random() < 0.5:
            pick, place, missing = absent("block"), place_real, None
            missing = pick.label
        else:
            pick, place = real_block, absent(kind)
            missing = place.label
        if place_real.label in present and place is place_real and place.label == pick.label:
            place = absent(kind)
        text = self._clause(rng, task, pick, place)
        return Example(self.decorate(rng, text), "refuse", refused=missing)


def vocabulary_texts(templates: dict[str, list[str]]) -> list[str]:
    """Every word the training grammar can produce (for the tokenizer), plus the program words."""
    texts = [t for ts in templates.values() for t in ts]
    texts += list(POLITE_PREFIX) + list(POLITE_SUFFIX) + list(END_PUNCT) + list(CONNECTORS)
    texts += [t for ts in ELLIPSIS.values() for t in ts]
    texts += list(COLORS) + [w for syn in OBJECT_KINDS.values() for w in syn] + list(PLURALS.values())
    texts += list(LOCATION_SYNONYMS) + list(LOCATIONS) + ["pick place refuse"]
    return [t.replace("{", " ").replace("}", " ") for t in texts]

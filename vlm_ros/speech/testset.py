"""The spoken test set: commands, non-commands (evaluation and, separately, calibration), and clips.

Non-commands include statements about the scene that contain command words ("the red block is
in the green bowl", "i like the green bowl"): the sentences a grammar-constrained recogniser is
most tempted to force into a command. The calibration sentences (used to fit the acceptance
threshold) share no sentence with the evaluation ones, and are spoken at other speeds.
"""

from __future__ import annotations

import zlib

from vlm_ros.speech.audio import AudioChunk, active_rms
from vlm_ros.speech.degrade import Condition, apply, padded
from vlm_ros.speech.voices import speak

# 38 commands: every primitive, every colour, object and location synonyms, two-step and short commands.
COMMANDS: tuple[str, ...] = (
    "put the red block in the green bowl",
    "put the blue cube in the yellow bowl",
    "place the orange block on the purple block",
    "pick up the pink cube",
    "grab the cyan block",
    "take the white box",
    "pick up the brown block and put it in the gray bowl",
    "stack the yellow block on the red block",
    "stack the green cube on top of the blue cube",
    "drop the purple block into the orange dish",
    "put the gray cube in the white container",
    "move the red block to the top left corner",
    "move the blue block to the center",
    "move the green box to the right side",
    "put the yellow cube in the bottom right corner",
    "place the pink block at the top right corner",
    "put the cyan cube on the left side",
    "move the brown cube to the middle",
    "push the red block left",
    "push the blue cube to the right",
    "push the green block forward",
    "push the yellow box toward me",
    "push the orange cube away",
    "push the white block back",
    "move to the top side",
    "go to the bottom left corner",
    "move to the far side",
    "go home",
    "return home",
    "open the gripper",
    "close the gripper",
    "open gripper",
    "stop",
    "put all the red blocks in the blue bowl",
    "pick up the gray block then go home",
    "please put the white cube in the pink bowl",
    "put it in the green bowl",
    "halt",
)

SHORT_COMMANDS: tuple[str, ...] = ("go home", "stop", "open the gripper")


def command_subset(every: int) -> tuple[str, ...]:
    """Every `every`-th command, plus the short commands (they are the ones most often lost)."""
    picked = COMMANDS[::max(1, every)]
    return picked + tuple(c for c in SHORT_COMMANDS if c not in picked)


# 36 sentences that are not commands; a third are statements about the scene in command words.
NON_COMMANDS: tuple[str, ...] = (
    "the red block is in the green bowl",
    "i like the green bowl",
    "the blue cube is on the yellow block",
    "where is the orange block",
    "is the pink cube in the bowl",
    "that gray bowl looks empty",
    "the white box was already there",
    "i put the red block there yesterday",
    "nobody moved the purple block",
    "the gripper is open",
    "the robot went home early",
    "green and blue make cyan",
    "what time is it",
    "hello how are you",
    "bring me a cup of coffee",
    "close the door please",
    "open the window",
    "play some music",
    "tell me a joke",
    "set an alarm for seven",
    "good morning everyone",
    "drive forward two meters",
    "turn left at the corner",
    "never mind",
    "can you hear me",
    "the meeting starts at noon",
    "it is cold in here",
    "let us take a break",
    "thank you very much",
    "who left the lights on",
    "pass me the screwdriver",
    "we need more boxes",
    "the blocks are all over the table",
    "my favourite colour is yellow",
    "lunch is in the kitchen",
    "check the battery level",
)

# Short replies to "Did you say ...?" that are neither yes nor no, said by the speaker of a non-command in
# the confirmation-turn evaluation; none of them is among commands.FILLERS (the reply grammars' filler
# model), so they measure it on words it was not built from.
SHORT_NON_ANSWERS: tuple[str, ...] = ("excuse me", "one moment", "just a second", "come again", "let me think",
                                      "who knows", "hold on", "good question", "really", "never")

# calibration only: fits the acceptance threshold, never scored
CALIBRATION_NON_COMMANDS: tuple[str, ...] = (
    "the yellow cube is next to the red bowl",
    "i see a brown block",
    "the green box is bigger than the blue one",
    "someone put the cyan cube in the white bowl",
    "where did the gray block go",
    "the bowl on the left is pink",
    "how many blocks are there",
    "please call me back later",
    "the printer is out of paper",
    "what is the weather like",
    "open the garage door",
    "move your car please",
    "i will go home at five",
    "push the button on the wall",
    "pick a number between one and ten",
)
CALIBRATION_COMMANDS: tuple[str, ...] = COMMANDS[1::2]
CALIBRATION_SPEEDS: tuple[float, ...] = (0.9, 1.15)  # the evaluation speaks at 1.0

# (lead, tail) silences [s]; a third of clips start speaking within the first 30 ms
PADDING: tuple[tuple[float, float], ...] = ((0.0, 0.5), (0.01, 1.0), (0.03, 2.0), (0.3, 0.5), (0.8, 1.0),
                                             (1.5, 0.8))


def clip_seed(*parts: object) -> int:
    """A stable seed per (text, voice, condition, ...): the same clip every run, different across clips."""
    return zlib.crc32("|".join(map(str, parts)).encode())


def make_clip(text: str, voice: str, condition: Condition, speed: float = 1.0, prefix: str = "",
              min_tail_s: float = 0.0, take: int = 1) -> AudioChunk:
    """`prefix + text` spoken by `voice`, padded with silence and put in the room `condition`;
    min_tail_s: at least this much room after the speech (a speaker waiting for the robot's question);
    take > 1: the same words said again (other lead-in, other noise)."""
    said = f"{prefix}, {text}" if prefix else text  # "robot, put the ..." (a pause after the wake phrase)
    seed = clip_seed(said, voice, condition.name, speed, *([take] if take > 1 else []))
    speech = speak(said, voice, speed)
    lead, tail = PADDING[seed % len(PADDING)]
    tail = max(tail, min_tail_s)
    clip = padded(speech, lead, tail, floor_dbfs=-65.0, seed=seed)
    return apply(clip, condition, active_rms(speech.samples, speech.sample_rate), seed)

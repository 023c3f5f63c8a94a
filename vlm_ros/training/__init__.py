"""Training recipe of the default grounding model: scenes, instructions, loop, evaluation."""

"""Spoken commands: audio → utterances → transcripts → instructions, in plain Python (no rclpy).

    sources / audio ─▶ endpoint (energy or VAD) ─▶ asr backend (pocketsphinx | whisper)
        ─▶ pipeline.decide (command grammar + confidence) ─▶ Recognition (ok | not_understood | low_confidence)

speech_node (vlm_ros/ros/speech_node.py) and `vlm-ros listen` are thin users of SpeechPipeline.
"""

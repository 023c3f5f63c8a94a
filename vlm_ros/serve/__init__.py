"""`vlm-ros serve`: any vlm_ros grounder behind an OpenAI-compatible API, on Ray Serve.

protocol.py (plain Python: request -> frame + instruction, answer -> JSON) is what the tests
and the deployment share; deployment.py is the only module that imports Ray.
"""

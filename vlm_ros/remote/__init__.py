"""Remote inference: the `remote` backend (an OpenAI-compatible client) and its image encoding.

Nothing here imports Ray; the server side lives in vlm_ros.serve.
"""

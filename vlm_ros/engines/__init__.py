"""Inference engines for the default model: ONNX export, ONNX Runtime and TensorRT runtimes.

The PyTorch model is the reference; these backends run the same exported graphs (vision,
token embeddings, decoder with an explicit KV cache, pointer head in three parts) behind one small
runtime interface (`runtime.Runtime`), driven by one greedy decoding loop. Nothing here
imports onnxruntime or tensorrt at import time, so probing a backend never costs the others.
"""

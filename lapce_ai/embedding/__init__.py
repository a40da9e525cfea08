"""Embedding: chunk text to vectors with the local models (static, int8 ONNX MiniLM, or both in
two stages) or AWS Titan through Bedrock, under a rate limit; vectors are reused by content hash."""

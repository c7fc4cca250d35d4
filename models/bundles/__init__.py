"""A bundle's files, from the training side.

The compact checkpoint, the generator's ONNX export, ONNX import, the untrained default.
"""

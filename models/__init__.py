"""Plate detector and reader models (ONNX), their manifest, training and evaluation code.

Built in a later issue.
"""

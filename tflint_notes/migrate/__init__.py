"""`tflint-notes migrate`: one command from TF1 / Keras 2 code to today's TensorFlow, by route.

command.py drives the run (routes, writing, the report's destination); code.py is what happens to one module
in a worker; dependencies.py edits requirement files; report.py renders what was done and what is left.
"""

"""One module per mechanism: plain functions over arrays, each testable without a model.

The model (sim/model.py) calls them in a fixed order each month; see ClusterModel.step.
"""

"""Calibration: the 2020 level of the initial state (level.py) and fitting free parameters to
target moments (the `clustersim calibrate` command)."""

"""Validation of the model against stylised facts and its own mechanisms (`clustersim
validate-model`): estimators in stylised.py, model experiments in experiments.py, the report
(docs/validation.md and its figures) in report.py."""

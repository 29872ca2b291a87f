"""Batch sweeps: experiment files, designs, a resumable runner on local processes or Dask,
Parquet results and a report (docs/sweeps.md)."""

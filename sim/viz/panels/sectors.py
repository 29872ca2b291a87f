"""Core value added by NBS 2021 core digital economy industry, stacked."""

from __future__ import annotations

import textwrap

import numpy as np

from sim.viz.panels.stack import StackPanel
from sim.viz.style import SECTOR_COLOURS


class SectorsPanel(StackPanel):
    title = "Core value added by sector"
    note = "stacked; NBS 2021 core digital economy industries"

    def groups(self):
        m = self.model
        s = m.inputs.sectors
        names = dict(zip(s["sector"], s["sector_name"] if "sector_name" in s else s["sector"]))
        labels = [textwrap.fill(f"{c} {names.get(c, '')}".strip(), 24) for c in m.sector_codes]
        if not m.history.sector_va:
            return labels, SECTOR_COLOURS, None
        return labels, SECTOR_COLOURS, np.array(m.history.sector_va).T

"""Core value added by macro-region, stacked, largest region at the bottom."""

from __future__ import annotations

import numpy as np

from sim.viz.panels.stack import StackPanel
from sim.viz.style import MACRO_COLOURS


class RegionsPanel(StackPanel):
    title = "Core value added by macro-region"
    note = "stacked; each month at an annual rate"

    def groups(self):
        m = self.model
        macro = m.inputs.regions["macro_region"].astype(str).to_numpy()
        names = list(dict.fromkeys(macro))
        size = np.array([m.initial_region_va[macro == g].sum() for g in names])
        names = [names[i] for i in np.argsort(-size, kind="stable")]
        colours = [MACRO_COLOURS[i % len(MACRO_COLOURS)] for i in range(len(names))]
        if not m.history.region_va:
            return names, colours, None
        va = np.array(m.history.region_va)  # (T, R)
        return names, colours, np.array([va[:, macro == g].sum(axis=1) for g in names])

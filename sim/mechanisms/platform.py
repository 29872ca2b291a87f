"""Platform-networked collaboration: collaborative R&D and production through digital
platforms weaken the constraint of distance on knowledge flows.

The seeds name this as the digital cluster's distinctive feature. A firm in cluster r reaches
the other clusters' knowledge with weight

    w'_rj = (1 - pi_r) exp(-d_rj / delta) + pi_r,       pi_r(t) = reach * min(1, I_r(t)),

i.e. a share pi_r of its links is distance-free; I_r(t) is the cluster's digital
infrastructure index (policy.py: connectivity and compute, growing at the infrastructure rate)
standing in for its platform intensity, and `reach` (platform.reach) the share of the knowledge
pool a fully platform-connected cluster reaches regardless of distance. The spillover step
(spillover.py) uses w' in place of the distance weights; the diagonal (own cluster) keeps its
within-cluster weight, mixed the same way.
"""

from __future__ import annotations

import numpy as np

from sim.mechanisms import policy
from sim.mechanisms.base import Mechanism


def platform_share(reach, infrastructure_index):
    """pi_r: the distance-free share of cluster r's knowledge links."""
    return reach * np.minimum(1.0, np.asarray(infrastructure_index, float))


def platform_weights(w_distance, share):
    """w' = (1 - pi_r) w_rj + pi_r, row r for the firms of cluster r."""
    share = np.asarray(share, float)[:, None]
    return (1.0 - share) * np.asarray(w_distance, float) + share


class Platform(Mechanism):
    """This month's knowledge weights between clusters, with platform links."""

    name = "platform"
    section = "platform"

    def setup(self, model) -> None:
        model.w_region_distance = model.w_region  # distance decay only (model.py)

    def step(self, model, month) -> None:
        share = platform_share(model.p.platform.reach, policy.infrastructure_of(model, month.index))
        model.platform_share = share
        model.w_region = platform_weights(model.w_region_distance, share)


PLATFORM = Platform()

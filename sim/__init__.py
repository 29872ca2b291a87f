"""clustersim: an agent-based model of China's digital industry clusters (Mesa 3.5)."""

from sim.model import ClusterModel
from sim.runner import run_replicate, run_scenario
from sim.scenario import Scenario, ScenarioError, load_scenario

__all__ = ["ClusterModel", "Scenario", "ScenarioError", "load_scenario", "run_replicate",
           "run_scenario"]
__version__ = "0.1.0"

"""The browser page (Mesa SolaraViz): watch and steer the clusters. See docs/viz.md."""

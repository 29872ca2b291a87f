"""The page's Solara components: the charts as images, the headline figures, the rules list."""

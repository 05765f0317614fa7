"""Training of the interactive model: datasets of binary targets, click simulation, the loop."""

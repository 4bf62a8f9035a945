"""Loss-comparison grids: spec, expansion into cells, claims and the resumable runner."""

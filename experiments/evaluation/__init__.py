"""Post-training evaluation: MTEB tasks (local or Hub data) for HFEncoder models."""

"""Leaderboards, tables and plots rebuilt from grid run directories."""

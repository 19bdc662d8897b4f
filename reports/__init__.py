"""Claim registry, runner, results store, sweeps, figures and report rendering."""

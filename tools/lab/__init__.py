"""The lab: each safety setting's guarantee, watched failing without it (python -m tools.lab)."""

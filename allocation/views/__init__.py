"""Pages of the allocation app, one module per audience: rounds (progress and results), and the
portals of ministries, donors, providers and the secretariat."""
from allocation.views.rounds import round_detail, round_solve, run_progress

__all__ = ["round_detail", "round_solve", "run_progress"]

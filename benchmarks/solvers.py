"""Projection engine benchmark (stages, solvers, F1); same as `xlner bench solvers` (see xlner/bench/solvers.py)."""

from xlner.bench.solvers import main

if __name__ == "__main__":
    main()

"""Reproduction of the published heuristic; same as `xlner bench conll-reproduction` (see xlner/bench/conll_reproduction.py)."""

from xlner.bench.conll_reproduction import main

if __name__ == "__main__":
    main()

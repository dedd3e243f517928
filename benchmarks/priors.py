"""Cached eflomal priors and long sentence pairs; same as `xlner bench priors` (see xlner/bench/priors.py)."""

from xlner.bench.priors import main

if __name__ == "__main__":
    main()

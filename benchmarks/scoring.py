"""Throughput of the model-based projection scores; same as `xlner bench scoring`.

See xlner/bench/scoring.py.
"""

from xlner.bench.scoring import main

if __name__ == "__main__":
    main()

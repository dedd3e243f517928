"""Projection throughput and memory, local vs Ray; same as `xlner bench scale`.

See xlner/bench/scale.py.
"""

from xlner.bench.scale import main

if __name__ == "__main__":
    main()

"""Word-alignment benchmark; same as `xlner bench alignment` (see xlner/bench/alignment.py)."""

from xlner.bench.alignment import main

if __name__ == "__main__":
    main()

"""Bambara translate-test benchmark; same as `xlner bench bam` (see xlner/bench/bam.py)."""

from xlner.bench.bam import main

if __name__ == "__main__":
    main()

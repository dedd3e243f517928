"""Europarl-NER projection benchmark; same as `xlner bench europarl` (see xlner/bench/europarl.py)."""

from xlner.bench.europarl import main

if __name__ == "__main__":
    main()

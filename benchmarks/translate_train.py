"""Translate-train against T-Projection's silver data; same as `xlner bench translate-train`.

See xlner/bench/translate_train.py.
"""

from xlner.bench.translate_train import main

if __name__ == "__main__":
    main()

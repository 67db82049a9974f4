"""``python -m minigan.eval CHECKPOINT``: score a saved MNIST generator (minigan.apps.evaluate)."""
import sys

from minigan.apps.evaluate import generate_from_checkpoint, main  # noqa: F401  (tests import them)

if __name__ == "__main__":
    sys.exit(main())

import sys
from pathlib import Path

# The browser helpers live beside the tests.
sys.path.insert(0, str(Path(__file__).resolve().parent))

"""The bank writers' check of one file: `python3 bench/check_bank_part.py data/statements/bank_X.csv`."""
import runpy
import sys
from pathlib import Path

sys.argv = [sys.argv[0], "--part", *sys.argv[1:]]
runpy.run_path(str(Path(__file__).with_name("data_quality.py")), run_name="__main__")

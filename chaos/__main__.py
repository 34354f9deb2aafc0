"""`python -m chaos`: the harness's single entry point."""
import sys

from chaos.cli import main

if __name__ == "__main__":
    sys.exit(main())

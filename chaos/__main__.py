"""`python -m chaos`: the harness's single entry point (see chaos.entrypoint for why it is thin)."""
import sys

from chaos.entrypoint import main

if __name__ == "__main__":
    sys.exit(main())

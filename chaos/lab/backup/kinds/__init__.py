"""One module per AWS Backup resource type; each calls `register_provider` at import (see providers.py)."""

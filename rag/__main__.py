"""``python -m rag`` is the ``yuanwen`` command."""

import sys

from .cli import main

sys.exit(main())

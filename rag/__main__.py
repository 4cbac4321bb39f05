"""``python -m rag`` is the ``yuanwen`` command."""

import sys

from rag.app.cli import main

sys.exit(main())

"""``python -m hybridmoo``: the same as the ``hybridmoo`` command."""

import sys

from hybridmoo.cli import main

sys.exit(main())

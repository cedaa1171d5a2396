"""``python -m hybridmoo.cli``: the ``hybridmoo`` command."""

import sys

from hybridmoo.cli import main

sys.exit(main())

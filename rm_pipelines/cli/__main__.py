"""`python -m rm_pipelines.cli …`: the same as the `rm-pipelines` command."""

import sys

from . import main

sys.exit(main())

import sys

from corpora.cli import main

sys.exit(main())

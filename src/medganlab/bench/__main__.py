import sys

from medganlab.bench.runner import main

sys.exit(main())

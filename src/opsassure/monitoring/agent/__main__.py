import sys

from opsassure.monitoring.agent.runner import main

sys.exit(main())

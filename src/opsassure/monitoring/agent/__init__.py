"""The host metrics agent: ``opsassure agent`` / ``python -m opsassure.monitoring.agent``.

Runs on the monitored host with only psutil and httpx (no Django, no database): every
``interval`` seconds it samples CPU, memory, swap, disk usage per mount, disk and network
throughput, load and uptime, and pushes them with an agent token to
``POST /api/v1/monitoring/agent/push/``. Host facts (OS, kernel, CPU count, memory, serial)
go with the first push and then once a day; the server turns changed facts into a CMDB
discovery record. While the server cannot be reached the points wait in a bounded buffer
(in memory, or in a spool directory that survives restarts) and are sent later, oldest first.
"""

VERSION = "1.0"
PUSH_PATH = "/api/v1/monitoring/agent/push/"
